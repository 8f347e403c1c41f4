"""Train and test the rows of an ablation table, and write it in the layout of the paper's tables.

Each row is trained with ``python -m mmorcnn.engine.train`` and tested with ``python -m
mmorcnn.engine.test`` (mmengine's Runner; what ``tools/train.py`` / ``tools/test.py``, ``mim
train`` / ``mim test`` run), each in a process of this Python in the current directory: the
package's own modules, so an installed package runs its rows from any directory. A run's config
is the row's config merged with the listing's and the row's ``cfg_options`` (and
``randomness.seed=SEED`` with seeds), written to ``WORK_DIR/<row>/config.py``
(``WORK_DIR/<row>/seed<SEED>/`` with seeds). The table's values are read back from the metric
output of the test run (``<run dir>/test/<timestamp>/<timestamp>.json``, mmengine's dump of what
the test evaluator returned), so the config's test evaluator must be ``AmodalCocoMetric``.

Columns (paper Tables 3, 4, 6): AP_AV, AP_A, AP_V on all objects; AP_AV, AP_A, AP_V and AP_IV@0.5
on occluded objects. ``WORK_DIR/table.md`` has them in percent (``-`` where the model cannot be
evaluated, e.g. AP_IV of a model without invisible masks; with seeds ``mean ± std``, the
sample standard deviation over the seeds), ``WORK_DIR/table.csv`` as fractions with every
``amodal/`` key of the metric (with seeds: ``KEY`` the mean, ``KEY_std`` and
``KEY_seed<SEED>`` each run's value), ``WORK_DIR/table.png`` as a bar chart (error bars: one std).

Parallel runs: ``jobs=N`` keeps N runs going at once, each in its own processes. Locally, job
slot i gets ``CUDA_VISIBLE_DEVICES`` = the i-th visible GPU (one job per GPU when N is the number
of GPUs) and ``OMP_NUM_THREADS=MKL_NUM_THREADS=cpu_count // N`` unless those are set already:
parallel trainings with oversubscribed OpenMP threads are several times slower than with one
thread each.

Resuming: a run whose ``metrics.json`` exists and was made from the same merged config is not run
again; an interrupted training resumes from its last checkpoint. ``force=True`` redoes every run.
Every run's config is checked before any run starts; a failed run does not stop the others, the
table is written from the runs that have results and :func:`run_ablation_table` then raises
naming the failures.

Listing file (YAML, or a Python file defining the same variables; keep Python listings out of
``configs/``, where every ``.py`` is taken for a model config)::

    title: Table 6 on the synthetic dataset       # optional, the Markdown table's caption
    work_dir: work_dirs/ablations/table6          # optional, default work_dirs/ablations/<file>
    cfg_options:                                   # optional, merged into every row's config
      train_cfg.max_iters: 400
    columns: [AP_A, order_acc, mask_head_params]   # optional, default the paper's Table 6 ones
    prepare:                                       # optional: run once before the rows, with
      - creates: data/x/annotations/train_aug.json #   this Python, unless `creates` exists
        run: [tools/dataset_converters/copy_paste_amodal.py, ...]
    rows:
      - name: ORCNN                                # the row's label
        config: configs/orcnn/orcnn_r18_fpn_tiny_synthetic.py
        cfg_options: {...}                         # optional, merged after the listing's
        checkpoint: path.pth                       # optional: test this, do not train
"""
import copy
import csv
import hashlib
import json
import os
import os.path as osp
import queue
import re
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from mmorcnn.evaluation.functional.amodal_table import PAPER_COLUMNS
from mmorcnn.utils.text_table import format_table
from .demo_summary import read_test_metrics

#: Result keys of the table's columns (without ``amodal/``) and their Markdown headers: the
#: paper's columns, ``occ.`` for occluded.
COLUMNS = tuple((key, name.replace('occluded ', 'occ. ')) for name, key in PAPER_COLUMNS)
METRIC_PREFIX = 'amodal/'
#: Columns a listing may add that are no metric key: the parameters of the RoI head outside its
#: box head, i.e. of the mask heads (counted in the checkpoint), and the test time per image
#: (mmengine's mean iteration time of the test run less its data time, over the batch size).
RUN_COLUMNS = {'mask_head_params': 'mask-head params', 'test_s_per_image': 'test s / image'}
HEADERS = {**dict(COLUMNS), **RUN_COLUMNS}


@dataclass
class Row:
    """One row of the table: a config, its overrides and, to test only, a checkpoint."""
    name: str
    config: str
    cfg_options: dict = field(default_factory=dict)
    checkpoint: Optional[str] = None


@dataclass
class Listing:
    """What a listing file (or the command line) asks for."""
    rows: List[Row]
    title: Optional[str] = None
    work_dir: Optional[str] = None
    prepare: List[dict] = field(default_factory=list)
    columns: Optional[List[str]] = None


def slug(name: str) -> str:
    """A folder name for a row label: ``ORCNN (w/o L_V)`` -> ``orcnn-w-o-l-v``."""
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-') or 'row'


def load_listing(path: str) -> Listing:
    """Read a listing file (``.yaml``/``.yml`` or ``.py``); see the module docstring."""
    if path.endswith(('.yaml', '.yml')):
        import yaml
        with open(path) as f:
            spec = yaml.safe_load(f) or {}
    elif path.endswith('.py'):
        from mmengine.config import Config
        spec = Config.fromfile(path).to_dict()
    else:
        raise ValueError(f'{path}: a listing file ends in .yaml, .yml or .py')
    if not spec.get('rows'):
        raise ValueError(f'{path}: no `rows`')
    common = spec.get('cfg_options') or {}
    rows = []
    for i, r in enumerate(spec['rows']):
        if 'config' not in r:
            raise ValueError(f'{path}: row {i} has no `config`')
        rows.append(Row(name=r.get('name', osp.splitext(osp.basename(r['config']))[0]),
                        config=r['config'],
                        cfg_options={**common, **(r.get('cfg_options') or {})},
                        checkpoint=r.get('checkpoint')))
    names = [slug(r.name) for r in rows]
    if len(set(names)) != len(names):
        raise ValueError(f'{path}: row names must differ (as folder names): {names}')
    for step in spec.get('prepare') or []:
        if not isinstance(step.get('run'), list) or 'creates' not in step:
            raise ValueError(f'{path}: a `prepare` step needs `creates` and a `run` list')
    columns = spec.get('columns')
    if columns is not None and (not isinstance(columns, list) or not columns
                                or not all(isinstance(c, str) for c in columns)):
        raise ValueError(f'{path}: `columns` is a list of metric keys without {METRIC_PREFIX!r} '
                         f'(AP_A, order_acc, ...) or of {sorted(RUN_COLUMNS)}, got {columns!r}')
    return Listing(rows=rows, title=spec.get('title'), work_dir=spec.get('work_dir'),
                   prepare=list(spec.get('prepare') or []), columns=columns)


@dataclass
class Run:
    """One training + test of a row: the row's config with one seed (or the config's own)."""
    row: Row
    seed: Optional[int]
    run_dir: str
    cfg_path: str = ''
    cfg_hash: str = ''

    @property
    def label(self) -> str:
        return self.row.name if self.seed is None else f'{self.row.name} [seed {self.seed}]'


@dataclass
class Launcher:
    """How a run's training and test processes are started.

    ``none``: ``python -m mmorcnn.engine.train`` / ``mmorcnn.engine.test`` with this Python.
    ``slurm``: the same through ``srun`` with the options of ``tools/slurm_train.sh`` /
    ``tools/slurm_test.sh`` (as in OpenMMLab codebases), one Slurm job per training and per test,
    ``gpus`` tasks each, ``--launcher slurm``.
    """
    kind: str = 'none'
    partition: Optional[str] = None
    gpus: int = 1
    gpus_per_node: Optional[int] = None
    cpus_per_task: int = 5
    srun_args: str = ''
    job_name: str = 'ablation'

    def command(self, module: str, args: List[str], job_name: str) -> List[str]:
        """The command line that runs ``python -m module args`` (as Slurm job ``job_name``)."""
        if self.kind != 'slurm':
            return [sys.executable, '-m', module] + args
        per_node = self.gpus_per_node or min(self.gpus, 8)
        return (['srun', '-p', str(self.partition), f'--job-name={job_name}',
                 f'--gres=gpu:{per_node}', f'--ntasks={self.gpus}',
                 f'--ntasks-per-node={per_node}', f'--cpus-per-task={self.cpus_per_task}',
                 '--kill-on-bad-exit=1'] + shlex.split(self.srun_args)
                + [sys.executable, '-u', '-m', module] + args + ['--launcher', 'slurm'])


def plan_runs(rows: List[Row], work_dir: str, seeds: Optional[List[int]]) -> List[Run]:
    """A run per row, or per row and seed: ``WORK_DIR/<row>/`` or ``WORK_DIR/<row>/seed<k>/``."""
    runs = []
    for row in rows:
        row_dir = osp.join(work_dir, slug(row.name))
        for seed in seeds if seeds is not None else [None]:
            runs.append(Run(row, seed, row_dir if seed is None else osp.join(row_dir,
                                                                                f'seed{seed}')))
    return runs


def merged_config(row: Row, train: bool, seed: Optional[int] = None):
    """The row's config with its options (and ``randomness.seed`` when a seed is given);
    trained rows skip validation (the test replaces it)."""
    from mmengine.config import Config
    cfg = Config.fromfile(row.config)
    cfg.merge_from_dict(copy.deepcopy(row.cfg_options))  # merging pops `_delete_` keys
    if seed is not None:
        cfg.merge_from_dict({'randomness.seed': seed})
    if train:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


def prepare_run(run: Run, train: bool, force: bool) -> Optional[dict]:
    """Write the run's merged config; return its existing ``metrics.json`` if that was made from
    the same config (resume), None if the run has to be done. Raises if results from another
    config are in the way (before anything is started)."""
    os.makedirs(run.run_dir, exist_ok=True)
    run.cfg_path = osp.join(run.run_dir, 'config.py')
    merged_config(run.row, train, run.seed).dump(run.cfg_path)
    with open(run.cfg_path, 'rb') as f:
        run.cfg_hash = hashlib.sha1(f.read()).hexdigest()
    if run.row.checkpoint is None and not train:
        raise ValueError(f'row {run.row.name!r}: --no-train needs a checkpoint')
    result_path = osp.join(run.run_dir, 'metrics.json')
    if not osp.isfile(result_path) or force:
        return None
    with open(result_path) as f:
        result = json.load(f)
    if result.get('config_sha1') != run.cfg_hash:
        raise RuntimeError(f'{result_path} was made from another config than {run.cfg_path} now '
                           'is; pass --force to redo the row or choose another --work-dir')
    result['resumed'] = True
    return result


def train_command(run: Run, resume: bool, launcher: Launcher) -> List[str]:
    """The command line that trains ``run`` into ``RUN_DIR/train``."""
    args = [run.cfg_path, '--work-dir', osp.join(run.run_dir, 'train')]
    return launcher.command('mmorcnn.engine.train', args + (['--resume'] if resume else []),
                            _job_name(launcher, run, 'train'))


def test_command(run: Run, checkpoint: str, launcher: Launcher) -> List[str]:
    """The command line that tests ``checkpoint`` into ``RUN_DIR/test``."""
    return launcher.command('mmorcnn.engine.test', [run.cfg_path, checkpoint, '--work-dir',
                                                    osp.join(run.run_dir, 'test')],
                            _job_name(launcher, run, 'test'))


def _job_name(launcher: Launcher, run: Run, stage: str) -> str:
    seed = '' if run.seed is None else f'-seed{run.seed}'
    return f'{launcher.job_name}-{slug(run.row.name)}{seed}-{stage}'


def run_logged(cmd: List[str], log_file: str, env: Optional[dict] = None) -> float:
    """Run ``cmd`` (with ``env`` added to this process' environment) with its output in
    ``log_file``; return its wall time in seconds."""
    start = time.time()
    with open(log_file, 'w') as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=os.getcwd(),
                              env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        with open(log_file) as f:
            tail = ''.join(f.readlines()[-25:])
        raise RuntimeError(f'{" ".join(cmd)} failed (exit {proc.returncode}); the end of '
                           f'{log_file}:\n{tail}')
    return time.time() - start


def execute_run(run: Run, force: bool, launcher: Launcher, env: Optional[dict] = None) -> dict:
    """Train (unless the row gives a checkpoint) and test one prepared run; write and return its
    ``metrics.json``. ``env``: the job slot's variables (CUDA_VISIBLE_DEVICES, OMP_NUM_THREADS)."""
    train_time = 0.0
    checkpoint = run.row.checkpoint
    if checkpoint is None:
        train_dir = osp.join(run.run_dir, 'train')
        resume = not force and osp.isfile(osp.join(train_dir, 'last_checkpoint'))
        train_time = run_logged(train_command(run, resume, launcher),
                                osp.join(run.run_dir, 'train.log'), env)
        with open(osp.join(train_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()

    test_dir = osp.join(run.run_dir, 'test')
    test_time = run_logged(test_command(run, checkpoint, launcher),
                           osp.join(run.run_dir, 'test.log'), env)
    test_output = read_test_metrics(test_dir)
    metrics = {k: v for k, v in test_output.items() if k.startswith(METRIC_PREFIX)}
    metrics['mask_head_params'] = mask_head_params(checkpoint)
    metrics['test_s_per_image'] = test_seconds_per_image(test_output, run.cfg_path)
    missing = [METRIC_PREFIX + k for k, _ in COLUMNS if METRIC_PREFIX + k not in metrics]
    if missing:
        raise KeyError(f'row {run.row.name!r}: the test of {run.row.config} reported no '
                       f"{missing}; its test evaluator must be dict(type='AmodalCocoMetric', ...)")
    result = dict(name=run.row.name, config=run.row.config, seed=run.seed,
                  cfg_options=run.row.cfg_options, checkpoint=checkpoint,
                  config_sha1=run.cfg_hash, train_time_s=train_time, test_time_s=test_time,
                  metrics=metrics)
    with open(osp.join(run.run_dir, 'metrics.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result


def mask_head_params(checkpoint: str) -> int:
    """Parameters of the RoI head outside its box head in ``checkpoint``: those of the mask
    heads (ORCNN's two, AISFormer's transformer head, ...; the RoI extractors have none)."""
    import torch

    import mmorcnn  # noqa: F401  (mmengine's checkpoints load with torch's weights_only=True)
    state = torch.load(checkpoint, map_location='cpu')['state_dict']
    return sum(value.numel() for key, value in state.items()
               if key.startswith('roi_head.') and not key.startswith('roi_head.bbox_head.'))


def test_seconds_per_image(test_output: dict, cfg_path: str) -> Optional[float]:
    """Seconds per test image: mmengine's mean iteration ``time`` of the test run less its
    ``data_time`` (loading), over the test batch size; None where the run logged no times."""
    from mmengine.config import Config
    if 'time' not in test_output:
        return None
    batch_size = Config.fromfile(cfg_path).test_dataloader.batch_size
    return (test_output['time'] - test_output.get('data_time', 0.0)) / batch_size


def visible_gpus() -> List[str]:
    """The GPUs this process may use: ``CUDA_VISIBLE_DEVICES`` if set, else all torch sees."""
    if 'CUDA_VISIBLE_DEVICES' in os.environ:
        return [g for g in os.environ['CUDA_VISIBLE_DEVICES'].split(',') if g.strip()]
    import torch
    return [str(i) for i in range(torch.cuda.device_count())]


def job_slots(jobs: int, launcher: Launcher, gpus: Optional[List[str]] = None) -> List[dict]:
    """The environment of each of ``jobs`` parallel job slots.

    Local runs: slot i gets GPU ``gpus[i % len(gpus)]`` (one job per GPU when ``jobs`` equals the
    number of GPUs) and ``cpu_count // jobs`` OpenMP/MKL threads, so that parallel trainings do
    not oversubscribe the cores (a ``OMP_NUM_THREADS`` set by the user is kept). Slurm runs: the
    scheduler places each job; slots add nothing.
    """
    if launcher.kind == 'slurm':
        return [{} for _ in range(jobs)]
    gpus = visible_gpus() if gpus is None else gpus
    threads = os.environ.get('OMP_NUM_THREADS') or str(max(1, (os.cpu_count() or 1) // jobs))
    slots = []
    for i in range(jobs):
        env = dict(OMP_NUM_THREADS=threads,
                   MKL_NUM_THREADS=os.environ.get('MKL_NUM_THREADS', threads))
        if gpus:
            env['CUDA_VISIBLE_DEVICES'] = gpus[i % len(gpus)]
        slots.append(env)
    return slots


def run_parallel(runs: List[Run], slots: List[dict], force: bool, launcher: Launcher,
                 on_done) -> List[Tuple[Run, BaseException]]:
    """Execute ``runs`` in ``len(slots)`` parallel processes (each run its own train/test
    processes, in a free slot's environment); call ``on_done(run, result)`` as each finishes.
    Return the runs that failed with their errors (the others still complete)."""
    free = queue.Queue()
    for slot in slots:
        free.put(slot)

    def work(run: Run) -> dict:
        slot = free.get()
        try:
            return execute_run(run, force, launcher, slot)
        finally:
            free.put(slot)

    failures = []
    with ThreadPoolExecutor(max_workers=len(slots)) as pool:
        futures = {pool.submit(work, run): run for run in runs}
        for future in as_completed(futures):
            run = futures[future]
            try:
                on_done(run, future.result())
            except Exception as error:  # reported with the others at the end
                failures.append((run, error))
                sys.stdout.write(f'\n{run.label}: FAILED: {error}\n')
    return failures


def collect_results(rows: List[Row], work_dir: str, seeds: Optional[List[int]]) -> List[dict]:
    """Per row with results (listing order): its name, config, the seeds found and each metric's
    per-seed values, ``{'name', 'config', 'seeds', 'values': {key: [v, ...]}, 'runs': [...]}``."""
    table = []
    for row in rows:
        runs = []
        for run in plan_runs([row], work_dir, seeds):
            path = osp.join(run.run_dir, 'metrics.json')
            if osp.isfile(path):
                with open(path) as f:
                    runs.append(json.load(f))
        if not runs:
            continue
        keys = [METRIC_PREFIX + k for k, _ in COLUMNS]
        for r in runs:
            keys += [k for k in r['metrics'] if k not in keys]
        table.append(dict(name=row.name, config=row.config, seeds=[r.get('seed') for r in runs],
                          runs=runs,
                          values={k: [r['metrics'].get(k) for r in runs] for k in keys}))
    return table


def mean_std(values: List[Optional[float]]) -> Tuple[Optional[float], Optional[float]]:
    """Mean and sample standard deviation (n - 1) of the evaluable values (``-1`` and missing
    ones are left out); std is None for fewer than two values, both None for none."""
    valid = [v for v in values if v is not None and v >= 0]
    if not valid:
        return None, None
    return statistics.fmean(valid), statistics.stdev(valid) if len(valid) > 1 else None


def _percent(value: float) -> str:
    return '-' if value < 0 else f'{100 * value:.1f}'


def _cell(values: List[Optional[float]], column: str = 'AP_AV') -> str:
    """A metric in percent, ``test_s_per_image`` in seconds (both ``mean ± std`` over seeds),
    ``mask_head_params`` as a count."""
    mean, std = mean_std(values)
    if mean is None:
        return '-'
    if column == 'mask_head_params':
        return f'{round(mean):,}'
    scale, digits = (1, 3) if column == 'test_s_per_image' else (100, 1)
    cell = f'{scale * mean:.{digits}f}'
    return cell if std is None else f'{cell} ± {scale * std:.{digits}f}'


def column_key(column: str) -> str:
    """The key of a column in a row's values: ``amodal/<column>`` for a metric."""
    return column if column in RUN_COLUMNS else METRIC_PREFIX + column


def _seeds_note(results: List[dict]) -> str:
    seeds = sorted({s for r in results for s in r['seeds'] if s is not None})
    if not seeds:
        return ''
    counts = {len(r['seeds']) for r in results}
    return (f' Mean ± sample standard deviation over seeds {", ".join(map(str, seeds))} '
            f'({"/".join(map(str, sorted(counts)))} runs per row).')


def markdown_table(results: List[dict], title: Optional[str] = None,
                   columns: Optional[List[str]] = None) -> str:
    """The paper's layout: a row per model, AP in percent (mean ± std over seeds), ``-`` where
    not evaluable. ``columns``: metric keys without ``amodal/`` and :data:`RUN_COLUMNS`
    (default: the paper's Table 6 columns)."""
    columns = columns or [k for k, _ in COLUMNS]
    lines = [f'**{title}**', ''] if title else []
    rows = [[r['name']] + [_cell(r['values'].get(column_key(c), []), c) for c in columns]
            for r in results]
    lines += [format_table(rows, header=['model'] + [HEADERS.get(c, c) for c in columns],
                           style='markdown'), '']
    notes = ('all: every object; occ.: occluded objects only (docs/metric.md). AP in %, '
             'averaged over IoU 0.50:0.95 except AP_IV@0.5.')
    if any(c.startswith('order_') for c in columns):
        notes += ' order_acc / order_F1 in % (docs/occlusion_order.md).'
    if 'mask_head_params' in columns:
        notes += ' mask-head params: the parameters of the RoI head outside its box head.'
    if 'test_s_per_image' in columns:
        notes += (' test s / image: seconds per test image, model and paste without data '
                  'loading, on the machine and under the load of the run.')
    lines.append(notes + _seeds_note(results))
    return '\n'.join(lines) + '\n'


def write_csv(results: List[dict], path: str) -> None:
    """Every ``amodal/`` key of every row as fractions (-1: not evaluable), the table's columns
    first. With seeds: per key its mean, ``<key>_std`` (sample std) and ``<key>_seed<k>``."""
    keys = []
    for r in results:
        keys += [k for k in r['values'] if k not in keys]
    seeds = sorted({s for r in results for s in r['seeds'] if s is not None})
    header, columns = ['name', 'config'], []
    if seeds:
        header.append('seeds')
    for key in keys:
        name = key[len(METRIC_PREFIX):] if key.startswith(METRIC_PREFIX) else key
        columns.append((key, 'mean'))
        header.append(name)
        if seeds:
            columns.append((key, 'std'))
            header.append(f'{name}_std')
            for s in seeds:
                columns.append((key, s))
                header.append(f'{name}_seed{s}')
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for r in results:
            line = [r['name'], r['config']]
            if seeds:
                line.append(' '.join(str(s) for s in r['seeds']))
            for key, what in columns:
                values = r['values'].get(key, [])
                if not seeds:  # one run: the metric's own value
                    line.append(values[0] if values and values[0] is not None else '')
                    continue
                if what in ('mean', 'std'):
                    mean, std = mean_std(values)
                    value = mean if what == 'mean' else std
                    if mean is None and what == 'mean' and values:
                        value = -1  # not evaluable, as the metric writes it
                    line.append('' if value is None else value)
                else:
                    by_seed = dict(zip(r['seeds'], values))
                    line.append('' if by_seed.get(what) is None else by_seed[what])
            writer.writerow(line)


def bar_chart(results: List[dict], path: str, title: Optional[str] = None,
              columns: Optional[List[str]] = None) -> None:
    """The table as a grouped bar chart (PNG): a group per column in percent (the metrics of
    ``columns``, default the Table 6 ones), a bar per row, error bars of one sample std where
    there are several seeds; not evaluable cells are marked ``n/a``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    columns = [c for c in columns or [k for k, _ in COLUMNS] if c not in RUN_COLUMNS]
    n_rows, n_cols = len(results), len(columns)
    width = 0.8 / max(n_rows, 1)
    fig, ax = plt.subplots(figsize=(min(16, max(8, 1.1 * n_cols + 0.12 * n_rows * n_cols + 2)),
                                    4.8), dpi=120)
    colors = plt.get_cmap('tab10' if n_rows <= 10 else 'tab20')
    top = 0.0
    for i, r in enumerate(results):
        xs = np.arange(n_cols) - 0.4 + width * (i + 0.5)
        stats = [mean_std(r['values'].get(column_key(c), [])) for c in columns]
        heights = [100 * m if m is not None else 0 for m, _ in stats]
        errors = [100 * s if s is not None else 0 for _, s in stats]
        ax.bar(xs, heights, width, yerr=errors if any(errors) else None, capsize=2,
               color=colors(i), label=r['name'], error_kw=dict(lw=0.8))
        for x, (m, _) in zip(xs, stats):
            if m is None:
                ax.text(x, 0.5, 'n/a', rotation=90, ha='center', va='bottom', fontsize=7,
                        color='0.3')
        top = max([top] + [h + e for h, e in zip(heights, errors)])
    ax.set_xticks(np.arange(n_cols), [HEADERS.get(c, c) for c in columns])
    ax.set_ylabel('AP, order accuracy (%)' if any(c.startswith('order_') for c in columns)
                  else 'AP (%)')
    ax.set_ylim(0, max(10.0, top * 1.1))
    ax.grid(axis='y', alpha=0.3)
    ax.set_axisbelow(True)
    seeds = sorted({s for r in results for s in r['seeds'] if s is not None})
    note = (f'mean ± std over seeds {", ".join(map(str, seeds))}' if len(seeds) > 1 else
            'one run per row')
    ax.set_title(f'{title}\n({note})' if title else note, fontsize=10)
    ax.legend(fontsize=8, ncol=1, loc='upper left', bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def prepare(steps: List[dict]) -> None:
    """Run the listing's preparation steps whose output does not exist yet."""
    for step in steps:
        if osp.exists(step['creates']):
            print(f'[prepare] {step["creates"]} exists')
            continue
        cmd = [sys.executable] + [str(a) for a in step['run']]
        print(f'[prepare] {" ".join(cmd)}', flush=True)
        subprocess.run(cmd, check=True)


def is_listing_file(path: str) -> bool:
    """A listing is a ``.yaml``/``.yml`` file or a ``.py`` file that defines ``rows`` (a config
    never does)."""
    if path.endswith(('.yaml', '.yml')):
        return True
    if not path.endswith('.py') or not osp.isfile(path):
        return False
    with open(path) as f:
        return re.search(r'^rows\s*=', f.read(), flags=re.MULTILINE) is not None


def build_listing(inputs: Sequence[str], checkpoints: Optional[Sequence[str]] = None,
                  cfg_options: Optional[dict] = None, work_dir: Optional[str] = None,
                  title: Optional[str] = None) -> Listing:
    """The listing of one listing file, or of config files (a row each, named after the config,
    tested with the given ``checkpoints`` when there are any); ``cfg_options`` are merged into
    every row after the listing's, ``work_dir`` and ``title`` replace the listing's."""
    if len(inputs) == 1 and is_listing_file(inputs[0]):
        listing = load_listing(inputs[0])
        if checkpoints:
            raise ValueError('checkpoints go with config inputs; a listing names a '
                             '`checkpoint` per row')
        default_dir = osp.join('work_dirs', 'ablations', osp.splitext(osp.basename(inputs[0]))[0])
    else:
        checkpoints = checkpoints or [None] * len(inputs)
        if len(checkpoints) != len(inputs):
            raise ValueError(f'{len(checkpoints)} checkpoints for {len(inputs)} configs')
        listing = Listing(rows=[Row(osp.splitext(osp.basename(c))[0], c, checkpoint=k)
                                for c, k in zip(inputs, checkpoints)])
        default_dir = osp.join('work_dirs', 'ablations', 'table')
    for row in listing.rows:
        row.cfg_options = {**row.cfg_options, **(cfg_options or {})}
    listing.work_dir = work_dir or listing.work_dir or default_dir
    listing.title = title or listing.title
    return listing


def run_ablation_table(listing: Listing, seeds: Optional[List[int]] = None,
                       jobs: Optional[int] = None, train: bool = True, force: bool = False,
                       only: Optional[Sequence[str]] = None,
                       launcher: Optional[Launcher] = None) -> List[dict]:
    """Train and test the listing's rows (``only`` these names if given), once per seed of
    ``seeds`` or once with the configs' own seeds, ``jobs`` runs at a time (default 1; with the
    Slurm launcher all at once); write ``table.md``, ``table.csv`` and ``table.png`` to the
    listing's work dir and print the table. ``train=False`` only tests the rows' checkpoints.

    Returns:
        list[dict]: The table's rows (:func:`collect_results`), every row of the listing that
        has results.

    Raises:
        RuntimeError: Some runs failed (after the table of the others was written).
    """
    from mmengine.utils import ProgressBar

    launcher = launcher or Launcher()
    unknown = set(only or []) - {r.name for r in listing.rows}
    if unknown:
        raise ValueError(f'only: no rows named {sorted(unknown)}')
    if seeds is not None and len(set(seeds)) != len(seeds):
        raise ValueError(f'seeds repeat a seed: {seeds}')
    rows = [r for r in listing.rows if not only or r.name in only]
    os.makedirs(listing.work_dir, exist_ok=True)
    prepare(listing.prepare)

    start = time.time()
    runs = plan_runs(rows, listing.work_dir, seeds)
    # every run's config is written and checked against existing results before any starts
    done = {id(run): prepare_run(run, train=train, force=force) for run in runs}
    pending = [run for run in runs if done[id(run)] is None]
    for run in runs:
        if done[id(run)] is not None:
            print(f'{run.label}: results exist, skipped', flush=True)
    jobs = jobs or (len(pending) if launcher.kind == 'slurm' else 1)
    jobs = max(1, min(jobs, len(pending) or 1))
    slots = job_slots(jobs, launcher)
    where = f'{jobs} parallel job(s)' + (
        f', Slurm partition {launcher.partition}' if launcher.kind == 'slurm' else
        ''.join(f'; slot {i}: ' + ' '.join(f'{k}={v}' for k, v in sorted(s.items()))
                for i, s in enumerate(slots)))
    print(f'{len(runs)} runs ({len(rows)} rows x {len(seeds or [None])} seed(s)), '
          f'{len(pending)} to do -> {listing.work_dir}; {where}', flush=True)

    bar = ProgressBar(len(pending)) if pending else None

    def on_done(run: Run, result: dict) -> None:
        bar.update()
        ap_av = _percent(result['metrics'][METRIC_PREFIX + 'AP_AV'])
        sys.stdout.write(f'\n{run.label}: trained {result["train_time_s"]:.0f} s, tested '
                         f'{result["test_time_s"]:.0f} s; AP_AV {ap_av} (logs in '
                         f'{run.run_dir})\n')

    failures = run_parallel(pending, slots, force, launcher, on_done) if pending else []

    # the table lists every row of the listing with results, in the listing's order
    results = collect_results(listing.rows, listing.work_dir, seeds)
    md_path, csv_path, png_path = (osp.join(listing.work_dir, f'table.{ext}')
                                   for ext in ('md', 'csv', 'png'))
    table = markdown_table(results, listing.title, listing.columns)
    with open(md_path, 'w') as f:
        f.write(table)
    write_csv(results, csv_path)
    if results:
        bar_chart(results, png_path, listing.title, listing.columns)
    trained = sum(r['train_time_s'] for res in results for r in res['runs'])
    tested = sum(r['test_time_s'] for res in results for r in res['runs'])
    print('\n\n' + table)
    print(f'{len(results)} rows in the table ({len(rows)} asked for this run), wall time of '
          f'this run {time.time() - start:.0f} s; all runs: training {trained:.0f} s, '
          f'testing {tested:.0f} s')
    print(f'written: {md_path}, {csv_path}' + (f', {png_path}' if results else ''))
    if failures:
        raise RuntimeError(f'{len(failures)} of {len(pending)} runs failed: ' + '; '.join(
            f'{run.label} ({type(e).__name__}, logs in {run.run_dir})' for run, e in failures))
    return results
