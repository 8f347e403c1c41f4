"""Test (and evaluate) a checkpoint with mmengine's Runner, as mmdet's ``tools/test.py`` does.

    python -m mmorcnn.engine.test CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
        [--show-dir DIR] [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]

``tools/test.py`` (what ``mim test mmorcnn``, ``tools/dist_test.sh`` and ``tools/slurm_test.sh``
start) runs :func:`main`; the ablation runner starts this module, which an installed package has
wherever it runs. The launcher and the options shared with training:
:mod:`mmorcnn.engine.launch`.
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

from mmdet.engine.hooks.utils import trigger_visualization_hook
from mmdet.evaluation import DumpDetResults
from mmdet.utils import setup_cache_size_limit_of_dynamo

import mmorcnn  # noqa: F401  registers mmorcnn's modules, safe checkpoint loading
from mmorcnn.engine.launch import add_run_arguments, build_runner, load_run_config


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) an amodal detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', type=str, help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory (inside work_dir/timestamp) where painted images are saved')
    parser.add_argument('--wait-time', type=float, default=2, help='the interval of show (s)')
    add_run_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Test as the command line ``argv`` (default ``sys.argv[1:]``) says."""
    args = parse_args(argv)
    setup_cache_size_limit_of_dynamo()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out must be a .pkl file, got {args.out}')
    cfg = load_run_config(args)
    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    runner = build_runner(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    runner.test()


if __name__ == '__main__':
    main()
