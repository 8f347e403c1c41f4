"""The closing summary of a ``make demo`` run: how the training loss fell, the test metrics, the
headline AP and the time.

It reads mmengine's own logs: ``WORK_DIR/<timestamp>/vis_data/scalars.json`` (training) and
``TEST_DIR/<timestamp>/<timestamp>.json`` (the metrics ``mim test`` printed).
"""
import glob
import json
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

from mmorcnn.evaluation.functional.amodal_table import PAPER_COLUMNS

#: The headline of the summary: (result key, label), AP in percent; four of the paper's
#: columns (3.3, Table 6).
_PAPER_NAMES = {key: name for name, key in PAPER_COLUMNS}
HEADLINE = tuple((f'amodal/{key}', _PAPER_NAMES[key]) for key in ('AP_A', 'AP_V', 'AP_AV',
                                                                  'occ_AP_IV50'))


def read_train_log(work_dir: str) -> List[dict]:
    """Training log records of the most recent run in ``work_dir``."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not logs:
        raise FileNotFoundError(f'no training log (*/vis_data/scalars.json) in {work_dir}')
    with open(logs[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_test_metrics(test_dir: str) -> Dict[str, float]:
    """Metrics of the most recent ``mim test`` run whose work dir is ``test_dir``."""
    runs = sorted(p for p in glob.glob(osp.join(test_dir, '*', '*.json'))
                  if osp.basename(p)[:-5] == osp.basename(osp.dirname(p)))
    if not runs:
        raise FileNotFoundError(f'no test metrics (<timestamp>/<timestamp>.json) in {test_dir}')
    with open(runs[-1]) as f:
        return json.load(f)


def mean_loss(records: List[dict], first: bool, n: int = 3) -> float:
    losses = [r['loss'] for r in records if 'loss' in r]
    if not losses:
        raise ValueError('the training log has no loss values')
    part = losses[:n] if first else losses[-n:]
    return sum(part) / len(part)


def occlusion_order_line(metrics: Dict[str, float]) -> str:
    """Which object hides which: ``order_acc`` and ``order_F1`` of the test metrics (``-``:
    not evaluable, e.g. a model without visible and invisible masks)."""
    values = []
    for key in ('order_acc', 'order_F1'):
        value = next((v for k, v in metrics.items() if k.split('/')[-1] == key), None)
        values.append(f'{key} ' + ('-' if value is None or value < 0 else f'{value:.4f}'))
    return 'occlusion order: ' + '  '.join(values)


def format_summary(records: List[dict], metrics: Dict[str, float],
                   seconds: Optional[float] = None) -> str:
    """The closing block of the demo: loss, every metric, then the headline AP and the time."""
    start, end = mean_loss(records, first=True), mean_loss(records, first=False)
    iters = max(r.get('iter', 0) for r in records)
    lines = ['', '================ mmorcnn demo summary ================',
             f'training: {iters} iterations, loss {start:.3f} (first log entries) -> '
             f'{end:.3f} (last log entries)', 'test metrics:']
    width = max(len(k) for k in metrics)
    lines += [f'  {key:<{width}}  {value:.4f}' for key, value in metrics.items()
              if isinstance(value, float)]
    lines.append(occlusion_order_line(metrics))
    headline = [f'{label} {100 * metrics[key]:.1f}' for key, label in HEADLINE if key in metrics]
    if headline:
        lines.append('AP (%): ' + ', '.join(headline))
    if seconds is not None:
        lines.append(f'time: {seconds:.0f} s ({seconds / 60:.1f} min)')
    lines.append('=======================================================')
    return '\n'.join(lines)


def demo_summary(work_dir: str, test_dir: Optional[str] = None,
                 started_at: Optional[float] = None) -> Tuple[str, bool]:
    """The summary of the demo trained in ``work_dir`` and tested in ``test_dir`` (default
    ``WORK_DIR/test``), ending with the time since ``started_at`` (seconds since the epoch) when
    given; and whether the training loss fell (last log entries below the first)."""
    records = read_train_log(work_dir)
    metrics = read_test_metrics(test_dir or osp.join(work_dir, 'test'))
    seconds = None if started_at is None else time.time() - started_at
    fell = mean_loss(records, first=False) < mean_loss(records, first=True)
    return format_summary(records, metrics, seconds), fell
