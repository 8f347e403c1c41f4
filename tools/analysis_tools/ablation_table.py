"""Train and test the rows of an ablation table, and write it in the layout of the paper's tables.

    # a listing file names the rows (see configs/ablations/table6_synthetic.yaml)
    python tools/analysis_tools/ablation_table.py configs/ablations/table6_synthetic.yaml

    # or configs on the command line, a row each, named after the config
    python tools/analysis_tools/ablation_table.py CONFIG [CONFIG ...] --work-dir DIR \\
        [--cfg-options train_cfg.max_iters=300 ...]

    # test given checkpoints only (one per config, same order)
    python tools/analysis_tools/ablation_table.py CONFIG [CONFIG ...] --work-dir DIR \\
        --no-train --checkpoints CKPT [CKPT ...]

    # every row once per seed, 3 rows at a time, mean +- std per cell
    python tools/analysis_tools/ablation_table.py LISTING --seeds 0 1 2 --jobs 3

    # on a Slurm cluster: every training and test is an srun job (the options of
    # tools/slurm_train.sh, tools/slurm_test.sh), all submitted at once unless --jobs says otherwise
    python tools/analysis_tools/ablation_table.py LISTING --seeds 0 1 2 --launcher slurm \\
        --partition PARTITION [--gpus 8] [--gpus-per-node 8] [--cpus-per-task 5] [--srun-args ...]

The runner, the listing format, resuming and the outputs (table.md, table.csv, table.png) are
described in :mod:`mmorcnn.analysis.ablation`.
"""
import argparse
import sys

from mmengine.config import DictAction

from mmorcnn.analysis.ablation import Launcher, build_listing, run_ablation_table


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train and test the rows of an ablation table and write it (Markdown, CSV, '
        'bar chart) in the layout of the paper\'s tables.')
    parser.add_argument('inputs', nargs='+',
                        help='one listing file (.yaml/.yml/.py with `rows`) or config files')
    parser.add_argument('--work-dir', help='where rows, table.md, table.csv and table.png go '
                        "(default: the listing's work_dir, else work_dirs/ablations/<listing>)")
    parser.add_argument('--seeds', nargs='+', type=int, metavar='SEED',
                        help='train every row once per seed (randomness.seed=SEED, work dir '
                        '<row>/seed<SEED>) and report mean ± std per cell; default: one run per '
                        "row with the config's own seed, work dir <row>")
    parser.add_argument('--jobs', type=int,
                        help='runs in parallel processes (default 1; with --launcher slurm: all '
                        'runs at once). Locally each job gets a GPU of CUDA_VISIBLE_DEVICES in '
                        'turn and cpu_count/jobs OpenMP threads')
    parser.add_argument('--no-train', action='store_true',
                        help='only test; configs need --checkpoints, listing rows `checkpoint`')
    parser.add_argument('--checkpoints', nargs='+',
                        help='with config inputs: a checkpoint per config, to test only')
    parser.add_argument('--force', action='store_true',
                        help='redo rows whose results exist and train from scratch')
    parser.add_argument('--only', nargs='+', metavar='NAME',
                        help='run only these rows (names as in the listing); the table still '
                        'lists every row with results')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='merged into every row\'s config after the listing\'s options, '
                        'e.g. train_cfg.max_iters=100')
    parser.add_argument('--title', help='caption of the Markdown table and the chart')
    slurm = parser.add_argument_group('cluster', 'with --launcher slurm every training and test '
                                      'is an srun job, with the options of '
                                      'tools/slurm_train.sh / tools/slurm_test.sh')
    slurm.add_argument('--launcher', choices=['none', 'slurm'], default='none',
                       help='none: local processes; slurm: srun jobs')
    slurm.add_argument('--partition', help='Slurm partition (needed with --launcher slurm)')
    slurm.add_argument('--gpus', type=int, default=1, help='GPUs (srun tasks) per job (1)')
    slurm.add_argument('--gpus-per-node', type=int,
                       help='GPUs per node of the partition (default min(--gpus, 8))')
    slurm.add_argument('--cpus-per-task', type=int, default=5, help='CPUs per srun task (5)')
    slurm.add_argument('--srun-args', default='', help='more srun options, e.g. "--quotatype=auto"')
    slurm.add_argument('--job-name', default='ablation',
                       help='prefix of the jobs\' names (<prefix>-<row>[-seed<k>]-train|test)')
    args = parser.parse_args(argv)
    if args.launcher == 'slurm' and not args.partition:
        parser.error('--launcher slurm needs --partition')
    if args.jobs is not None and args.jobs < 1:
        parser.error('--jobs must be at least 1')
    if args.seeds is not None and len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds repeats a seed: {args.seeds}')
    return args


def main() -> int:
    args = parse_args()
    listing = build_listing(args.inputs, args.checkpoints, args.cfg_options, args.work_dir,
                            args.title)
    launcher = Launcher(kind=args.launcher, partition=args.partition, gpus=args.gpus,
                        gpus_per_node=args.gpus_per_node, cpus_per_task=args.cpus_per_task,
                        srun_args=args.srun_args, job_name=args.job_name)
    run_ablation_table(listing, seeds=args.seeds, jobs=args.jobs, train=not args.no_train,
                       force=args.force, only=args.only, launcher=launcher)
    return 0


if __name__ == '__main__':
    sys.exit(main())
