"""Train a model from a config with mmengine's Runner, as mmdet's ``tools/train.py`` does.

    python -m mmorcnn.engine.train CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]

``tools/train.py`` (what ``mim train mmorcnn``, ``tools/dist_train.sh`` and
``tools/slurm_train.sh`` start) runs :func:`main`; the ablation runner starts this module, which
an installed package has wherever it runs. The launcher and the options shared with testing:
:mod:`mmorcnn.engine.launch`.
"""
import argparse
from typing import Optional, Sequence

from mmdet.utils import setup_cache_size_limit_of_dynamo

import mmorcnn  # noqa: F401  registers mmorcnn's modules, safe checkpoint loading
from mmorcnn.engine.launch import add_run_arguments, build_runner, load_run_config


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train an amodal detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr', action='store_true', help='enable automatically scaling LR')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or without a value from the latest '
        'checkpoint in the work directory')
    add_run_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Train as the command line ``argv`` (default ``sys.argv[1:]``) says."""
    args = parse_args(argv)
    setup_cache_size_limit_of_dynamo()
    cfg = load_run_config(args)

    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'

    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise RuntimeError('--auto-scale-lr needs `auto_scale_lr.base_batch_size` in the '
                               f'config {args.config}')
        cfg.auto_scale_lr.enable = True

    # resume priority: explicit checkpoint > latest checkpoint in work_dir
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    build_runner(cfg).train()


if __name__ == '__main__':
    main()
