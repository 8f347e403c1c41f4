"""Train and test the rows of an ablation table, and write it in the layout of the paper's tables.

    # a listing file names the rows (see configs/ablations/table6_synthetic.yaml)
    python tools/analysis_tools/ablation_table.py configs/ablations/table6_synthetic.yaml

    # or configs on the command line, a row each, named after the config
    python tools/analysis_tools/ablation_table.py CONFIG [CONFIG ...] --work-dir DIR \\
        [--cfg-options train_cfg.max_iters=300 ...]

    # test given checkpoints only (one per config, same order)
    python tools/analysis_tools/ablation_table.py CONFIG [CONFIG ...] --work-dir DIR \\
        --no-train --checkpoints CKPT [CKPT ...]

Each row is trained with ``tools/train.py`` and tested with ``tools/test.py`` (mmengine's Runner,
what ``mim train`` / ``mim test`` run), each in its own process, on the row's config merged with
the listing's and the row's ``cfg_options``; the merged config is written to
``WORK_DIR/<row>/config.py``. The table's values are read back from the metric output of the test
run (``WORK_DIR/<row>/test/<timestamp>/<timestamp>.json``, mmengine's dump of what the test
evaluator returned), so the config's test evaluator must be ``AmodalCocoMetric``.

Columns (paper Tables 3, 4, 6): AP_AV, AP_A, AP_V on all objects; AP_AV, AP_A, AP_V and AP_IV@0.5
on occluded objects. ``WORK_DIR/table.md`` has them in percent (``-`` where the model cannot be
evaluated, e.g. AP_IV of a model without invisible masks), ``WORK_DIR/table.csv`` as fractions
with every ``amodal/`` key of the metric.

Several trainings on a few CPU cores: ``OMP_NUM_THREADS=1`` (inherited by the rows' processes)
avoids the slowdown of oversubscribed OpenMP threads (on 2 shared cores, 1.0 s instead of 7.6 s
per iteration of the synthetic configs while another training ran).

Resuming: a row whose ``metrics.json`` exists and was made from the same merged config is not run
again; an interrupted training resumes from its last checkpoint. ``--force`` redoes every row.

Listing file (YAML, or a Python file defining the same variables; keep Python listings out of
``configs/``, where every ``.py`` is taken for a model config)::

    title: Table 6 on the synthetic dataset       # optional, the Markdown table's caption
    work_dir: work_dirs/ablations/table6          # optional, default work_dirs/ablations/<file>
    cfg_options:                                   # optional, merged into every row's config
      train_cfg.max_iters: 400
    prepare:                                       # optional: run once before the rows, with
      - creates: data/x/annotations/train_aug.json #   this Python, unless `creates` exists
        run: [tools/dataset_converters/copy_paste_amodal.py, ...]
    rows:
      - name: ORCNN                                # the row's label
        config: configs/orcnn/orcnn_r18_fpn_tiny_synthetic.py
        cfg_options: {...}                         # optional, merged after the listing's
        checkpoint: path.pth                       # optional: test this, do not train
"""
import argparse
import copy
import csv
import hashlib
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import List, Optional

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOLS_DIR = osp.join(REPO_ROOT, 'tools')
if osp.isfile(osp.join(REPO_ROOT, 'mmorcnn', '__init__.py')):  # run from a checkout: no install
    sys.path.insert(0, REPO_ROOT)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # the sibling demo_summary.py

from demo_summary import read_test_metrics  # noqa: E402

#: Result keys of the table's columns (without ``amodal/``) and their Markdown headers.
COLUMNS = (('AP_AV', 'AP_AV'), ('AP_A', 'AP_A'), ('AP_V', 'AP_V'),
           ('occ_AP_AV', 'occ. AP_AV'), ('occ_AP_A', 'occ. AP_A'), ('occ_AP_V', 'occ. AP_V'),
           ('occ_AP_IV50', 'occ. AP_IV@0.5'))
METRIC_PREFIX = 'amodal/'


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
    return Listing(rows=rows, title=spec.get('title'), work_dir=spec.get('work_dir'),
                   prepare=list(spec.get('prepare') or []))


def merged_config(row: Row, train: bool):
    """The row's config with its options; trained rows skip validation (the test replaces it)."""
    from mmengine.config import Config
    cfg = Config.fromfile(row.config)
    cfg.merge_from_dict(copy.deepcopy(row.cfg_options))  # merging pops `_delete_` keys
    if train:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


def run_logged(cmd: List[str], log_file: str) -> float:
    """Run ``cmd`` with its output in ``log_file``; return its wall time in seconds."""
    start = time.time()
    with open(log_file, 'w') as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=os.getcwd())
    if proc.returncode != 0:
        with open(log_file) as f:
            tail = ''.join(f.readlines()[-25:])
        raise RuntimeError(f'{" ".join(cmd)} failed (exit {proc.returncode}); the end of '
                           f'{log_file}:\n{tail}')
    return time.time() - start


def run_row(row: Row, row_dir: str, train: bool, force: bool) -> dict:
    """Train (unless a checkpoint is given) and test one row; return its ``metrics.json``."""
    os.makedirs(row_dir, exist_ok=True)
    cfg_path = osp.join(row_dir, 'config.py')
    cfg = merged_config(row, train)
    cfg.dump(cfg_path)
    with open(cfg_path, 'rb') as f:
        cfg_hash = hashlib.sha1(f.read()).hexdigest()

    result_path = osp.join(row_dir, 'metrics.json')
    if osp.isfile(result_path) and not force:
        with open(result_path) as f:
            result = json.load(f)
        if result.get('config_sha1') == cfg_hash:
            result['resumed'] = True
            return result
        raise RuntimeError(f'{result_path} was made from another config than {cfg_path} now '
                           'is; pass --force to redo the row or choose another --work-dir')

    train_time = 0.0
    checkpoint = row.checkpoint
    if checkpoint is None:
        if not train:
            raise ValueError(f'row {row.name!r}: --no-train needs a checkpoint')
        train_dir = osp.join(row_dir, 'train')
        cmd = [sys.executable, osp.join(TOOLS_DIR, 'train.py'), cfg_path, '--work-dir', train_dir]
        if not force and osp.isfile(osp.join(train_dir, 'last_checkpoint')):
            cmd.append('--resume')
        train_time = run_logged(cmd, osp.join(row_dir, 'train.log'))
        with open(osp.join(train_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()

    test_dir = osp.join(row_dir, 'test')
    test_time = run_logged(
        [sys.executable, osp.join(TOOLS_DIR, 'test.py'), cfg_path, checkpoint,
         '--work-dir', test_dir], osp.join(row_dir, 'test.log'))
    metrics = {k: v for k, v in read_test_metrics(test_dir).items() if k.startswith(METRIC_PREFIX)}
    missing = [METRIC_PREFIX + k for k, _ in COLUMNS if METRIC_PREFIX + k not in metrics]
    if missing:
        raise KeyError(f'row {row.name!r}: the test of {row.config} reported no {missing}; its '
                       "test evaluator must be dict(type='AmodalCocoMetric', ...)")
    result = dict(name=row.name, config=row.config, cfg_options=row.cfg_options,
                  checkpoint=checkpoint, config_sha1=cfg_hash, train_time_s=train_time,
                  test_time_s=test_time, metrics=metrics)
    with open(result_path, 'w') as f:
        json.dump(result, f, indent=1)
    return result


def _percent(value: float) -> str:
    return '-' if value < 0 else f'{100 * value:.1f}'


def markdown_table(results: List[dict], title: Optional[str] = None) -> str:
    """The paper's layout: a row per model, AP in percent, ``-`` where not evaluable."""
    lines = [f'**{title}**', ''] if title else []
    lines.append('| model | ' + ' | '.join(h for _, h in COLUMNS) + ' |')
    lines.append('| --- |' + ' ---: |' * len(COLUMNS))
    for r in results:
        values = [_percent(r['metrics'][METRIC_PREFIX + k]) for k, _ in COLUMNS]
        lines.append(f'| {r["name"]} | ' + ' | '.join(values) + ' |')
    lines.append('')
    lines.append('all: every object; occ.: occluded objects only (DESIGN.md section 6). '
                 'AP in %, averaged over IoU 0.50:0.95 except AP_IV@0.5.')
    return '\n'.join(lines) + '\n'


def write_csv(results: List[dict], path: str) -> None:
    """Every ``amodal/`` key of every row as fractions (-1: not evaluable), the table's
    columns first."""
    keys = [METRIC_PREFIX + k for k, _ in COLUMNS]
    for r in results:
        keys += [k for k in r['metrics'] if k not in keys]
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['name', 'config'] + [k[len(METRIC_PREFIX):] for k in keys])
        for r in results:
            writer.writerow([r['name'], r['config']] + [r['metrics'].get(k, '') for k in keys])


def prepare(steps: List[dict]) -> None:
    """Run the listing's preparation steps whose output does not exist yet."""
    for step in steps:
        if osp.exists(step['creates']):
            print(f'[prepare] {step["creates"]} exists')
            continue
        cmd = [sys.executable] + [str(a) for a in step['run']]
        print(f'[prepare] {" ".join(cmd)}', flush=True)
        subprocess.run(cmd, check=True)


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Train and test the rows of an ablation table and write it (Markdown, CSV) '
        'in the layout of the paper\'s tables.')
    parser.add_argument('inputs', nargs='+',
                        help='one listing file (.yaml/.yml/.py with `rows`) or config files')
    parser.add_argument('--work-dir', help='where rows, table.md and table.csv go (default: '
                        "the listing's work_dir, else work_dirs/ablations/<listing name>)")
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
    parser.add_argument('--title', help='caption of the Markdown table')
    return parser.parse_args(argv)


def build_listing(args: argparse.Namespace) -> Listing:
    if len(args.inputs) == 1 and args.inputs[0].endswith(('.yaml', '.yml')) or (
            len(args.inputs) == 1 and _is_listing_py(args.inputs[0])):
        listing = load_listing(args.inputs[0])
        if args.checkpoints:
            raise ValueError('--checkpoints goes with config inputs; a listing names a '
                             '`checkpoint` per row')
        default_dir = osp.join('work_dirs', 'ablations',
                               osp.splitext(osp.basename(args.inputs[0]))[0])
    else:
        checkpoints = args.checkpoints or [None] * len(args.inputs)
        if len(checkpoints) != len(args.inputs):
            raise ValueError(f'{len(checkpoints)} checkpoints for {len(args.inputs)} configs')
        listing = Listing(rows=[Row(osp.splitext(osp.basename(c))[0], c, checkpoint=k)
                                for c, k in zip(args.inputs, checkpoints)])
        default_dir = osp.join('work_dirs', 'ablations', 'table')
    for row in listing.rows:
        row.cfg_options = {**row.cfg_options, **args.cfg_options}
    listing.work_dir = args.work_dir or listing.work_dir or default_dir
    listing.title = args.title or listing.title
    return listing


def _is_listing_py(path: str) -> bool:
    """A ``.py`` input is a listing if it defines ``rows`` (a config never does)."""
    if not path.endswith('.py') or not osp.isfile(path):
        return False
    with open(path) as f:
        return re.search(r'^rows\s*=', f.read(), flags=re.MULTILINE) is not None


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.utils import ProgressBar

    listing = build_listing(args)
    rows = [r for r in listing.rows if not args.only or r.name in args.only]
    unknown = set(args.only or []) - {r.name for r in listing.rows}
    if unknown:
        raise ValueError(f'--only: no rows named {sorted(unknown)}')
    os.makedirs(listing.work_dir, exist_ok=True)
    prepare(listing.prepare)

    start = time.time()
    print(f'{len(rows)} rows -> {listing.work_dir}', flush=True)
    bar = ProgressBar(len(rows))
    for row in rows:
        row_dir = osp.join(listing.work_dir, slug(row.name))
        sys.stdout.write(f'\n{row.name}: {row.config} (logs in {row_dir})\n')
        result = run_row(row, row_dir, train=not args.no_train, force=args.force)
        bar.update()
        state = ('results exist, skipped' if result.get('resumed') else
                 f'trained {result["train_time_s"]:.0f} s, tested {result["test_time_s"]:.0f} s')
        ap_av = _percent(result['metrics'][METRIC_PREFIX + 'AP_AV'])
        sys.stdout.write(f'\n{row.name}: {state}; AP_AV {ap_av}\n')

    # the table lists every row of the listing with results, in the listing's order
    results = []
    for row in listing.rows:
        path = osp.join(listing.work_dir, slug(row.name), 'metrics.json')
        if osp.isfile(path):
            with open(path) as f:
                results.append(json.load(f))
    table = markdown_table(results, listing.title)
    md_path, csv_path = osp.join(listing.work_dir, 'table.md'), osp.join(listing.work_dir,
                                                                        'table.csv')
    with open(md_path, 'w') as f:
        f.write(table)
    write_csv(results, csv_path)
    trained = sum(r['train_time_s'] for r in results)
    tested = sum(r['test_time_s'] for r in results)
    print('\n\n' + table)
    print(f'{len(results)} rows in the table ({len(rows)} asked for this run), wall time of '
          f'this run {time.time() - start:.0f} s; all rows: training {trained:.0f} s, '
          f'testing {tested:.0f} s')
    print(f'written: {md_path}, {csv_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
