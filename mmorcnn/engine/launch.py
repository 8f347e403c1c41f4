"""How ``python -m mmorcnn.engine.train`` / ``mmorcnn.engine.test`` (``tools/train.py``,
``tools/test.py``, ``mim train`` / ``mim test``) start a run: the options both take, the config
they build the runner from, and the launcher: one process, or several joined by
``torch.distributed``.

On GPUs mmengine's Runner starts the process group itself (``init_dist`` with the config's
``env_cfg.dist_cfg``, NCCL by default). Where torch has no CUDA that cannot work: ``init_dist``
selects the process' GPU (``torch.cuda.set_device``) before it joins the group, NCCL needs GPUs,
and the default DDP wrapper is given that GPU's index (``device_ids=[LOCAL_RANK]``). A
distributed run without CUDA therefore gets a CPU configuration before the Runner is built:

* the backend is gloo (``env_cfg.dist_cfg.backend``), and the process joins the group here,
  from the environment torchrun sets (``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``,
  ``WORLD_SIZE``), with the config's ``timeout``; the Runner finds the group started and keeps
  it;
* the model is wrapped by ``MMDistributedDataParallel`` with the options of mmengine's default
  wrapper (or by the config's ``model_wrapper_cfg``), without device ids when the wrapper is a
  DDP: the form DDP takes for a CPU module.

Only the ``pytorch`` launcher (torchrun, ``tools/dist_train.sh``) runs without CUDA; Slurm and
MPI jobs are GPU jobs in mmengine (:class:`LauncherError` before anything starts).
"""
import argparse
import datetime
import os
import os.path as osp

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.registry import MODEL_WRAPPERS
from mmengine.runner import Runner
from torch.nn.parallel import DistributedDataParallel

from mmdet.registry import RUNNERS
from mmorcnn.utils import filter_mmengine_deprecations

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


class LauncherError(ValueError):
    """The launcher cannot start the run on this machine."""


def setup_launcher(cfg: Config, launcher: str) -> None:
    """Set ``cfg.launcher``; for a distributed run on a machine without CUDA, switch the config
    to gloo on CPUs and join the process group (see the module docstring).

    Raises:
        LauncherError: ``launcher`` is unknown, or needs CUDA (``slurm``, ``mpi``) and there
            is none.
    """
    if launcher not in LAUNCHERS:
        raise LauncherError(f'launcher {launcher!r} is none of {LAUNCHERS}')
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise LauncherError(
            f'launcher {launcher!r} needs CUDA (mmengine sets each process\' GPU), and torch '
            'has none here; start CPU processes with torchrun: bash tools/dist_train.sh CONFIG '
            'NUM_PROCS (docs/distributed.md)')
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env_cfg.setdefault('dist_cfg', ConfigDict())
    dist_cfg.backend = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or ConfigDict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper_type = wrapper.get('type', 'MMDistributedDataParallel')
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    if isinstance(wrapper_type, type) and issubclass(wrapper_type, DistributedDataParallel):
        wrapper.setdefault('device_ids', None)
    cfg.model_wrapper_cfg = wrapper
    if not torch_dist.is_initialized():
        options = {k: v for k, v in dist_cfg.items() if k != 'backend'}
        if options.get('timeout') is not None:
            options['timeout'] = datetime.timedelta(seconds=options['timeout'])
        torch_dist.init_process_group(backend='gloo', **options)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of training and testing alike: ``--work-dir``, ``--cfg-options``,
    ``--launcher`` and the ``--local-rank`` that ``torch.distributed.launch`` passes."""
    parser.add_argument('--work-dir', help='the directory of logs, checkpoints and metrics '
                        '(default: the config\'s work_dir, else ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=100 '
        'train_dataloader.batch_size=2')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_run_config(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` with ``--cfg-options`` merged, the work dir (command line,
    else the config's, else ``./work_dirs/<config name>``) and the launcher
    (:func:`setup_launcher`)."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    setup_launcher(cfg, args.launcher)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """The config's runner (``runner_type``, mmorcnn's configs: ``AmodalRunner``), its logger
    without mmengine's own deprecation notices (:mod:`mmorcnn.utils.logging`)."""
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    filter_mmengine_deprecations(runner.logger)
    return runner
