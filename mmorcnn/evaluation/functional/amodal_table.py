"""The summary tables that AmodalCocoMetric and eval_amodal.py print (in the boxed layout of
:func:`mmorcnn.utils.text_table.format_table`, as mmdet's CocoMetric logs its tables)."""
import logging
from typing import Dict, List, Union

from mmengine.logging import print_log

from mmorcnn.utils.text_table import format_table
from .amodal_eval import AmodalEvalResult
from .occlusion_order_eval import ORDER_KEYS

# (row label, key prefix, measure) in the order of the paper's tables.
_ROWS = [
    ('all', '', 'AV'), ('all', '', 'A'), ('all', '', 'V'),
    ('occluded', 'occ_', 'AV'), ('occluded', 'occ_', 'A'), ('occluded', 'occ_', 'V'),
    ('occluded', 'occ_', 'IV'),
    ('things', 'things_', 'A'), ('stuff', 'stuff_', 'A'),
    ('occlusion none', 'none_', 'A'), ('occlusion partial', 'partial_', 'A'),
    ('occlusion heavy', 'heavy_', 'A'),
]
#: The paper's result columns (Tables 3, 4, 6): (column as the paper names it, result key).
PAPER_COLUMNS = (('AP_AV', 'AP_AV'), ('AP_A', 'AP_A'), ('AP_V', 'AP_V'),
                 ('occluded AP_AV', 'occ_AP_AV'), ('occluded AP_A', 'occ_AP_A'),
                 ('occluded AP_V', 'occ_AP_V'), ('occluded AP_IV@0.5', 'occ_AP_IV50'))
#: The paper's column order, for the one-line copy-paste summary.
COPYPASTE_KEYS = tuple(key for _, key in PAPER_COLUMNS)

#: The keys by protocol: (protocol, [(the column as its papers name it, key), ...]).
PROTOCOL_COLUMNS = [
    ('ORCNN (Follmann et al., Tables 3, 4, 6)', list(PAPER_COLUMNS)),
    ('amodalAPI (COCOA; ORCNN Table 1)', [
        ('AP', 'AP_A'), ('AR@100', 'AR_A'), ('things AP', 'things_AP_A'),
        ('stuff AP', 'stuff_AP_A'), ('none AP', 'none_AP_A'), ('partial AP', 'partial_AP_A'),
        ('heavy AP', 'heavy_AP_A'), ('none AR', 'none_AR_A'), ('partial AR', 'partial_AR_A'),
        ('heavy AR', 'heavy_AR_A')]),
    ('AISFormer / VRSP-Net, amodal', [
        ('AP', 'AP_A'), ('AP50', 'AP_A_50'), ('AP75', 'AP_A_75'),
        ('APs (>= 15 % occluded)', 'occ15_AP_A'), ('APm (>= 25 % occluded)', 'occ25_AP_A'),
        ('APl (>= 40 % occluded)', 'occ40_AP_A'), ('AR', 'AR_A')]),
    ('AISFormer / VRSP-Net, visible', [
        ('AP', 'AP_V'), ('AP50', 'AP_V_50'), ('AP75', 'AP_V_75'),
        ('APs (>= 15 % occluded)', 'occ15_AP_V'), ('APm (>= 25 % occluded)', 'occ25_AP_V'),
        ('APl (>= 40 % occluded)', 'occ40_AP_V'), ('AR', 'AR_V')]),
    ('aistron', [
        ('amodal AP', 'AP_A'), ('amodal AP50', 'AP_A_50'), ('amodal AP75', 'AP_A_75'),
        ('amodal APs', 'AP_A_s'), ('amodal APm', 'AP_A_m'), ('amodal APl', 'AP_A_l'),
        ('visible AP', 'AP_V'), ('occluded AP', 'occ_AP_IV'),
        ('occluded AP75', 'occ_AP_IV75')]),
    ('COCO (pycocotools segm summary, amodal masks)', [
        ('AP', 'AP_A'), ('AP50', 'AP_A_50'), ('AP75', 'AP_A_75'), ('APs', 'AP_A_s'),
        ('APm', 'AP_A_m'), ('APl', 'AP_A_l'), ('AR@100', 'AR_A')]),
]


def _fmt(metrics: Dict[str, float], key: str) -> str:
    if key not in metrics:
        return ''
    value = metrics[key]
    return '-' if value < 0 else f'{value:.3f}'


def format_amodal_table(metrics: Dict[str, float]) -> str:
    """All result keys as one table: a row per subset and measure, columns AP, AP_50, AP_75, AR.

    Args:
        metrics (dict): Result keys without the ``amodal/`` prefix. Rows whose keys are absent
            are left out; -1 (not evaluable) prints as ``-``.
    """
    table = []
    for subset, prefix, measure in _ROWS:
        if measure == 'IV':
            if f'{prefix}AP_IV50' in metrics:
                table.append([subset, 'IV', '', _fmt(metrics, f'{prefix}AP_IV50'), '', ''])
            continue
        ap = f'{prefix}AP_{measure}'
        if ap in metrics:
            table.append([subset, measure, _fmt(metrics, ap), _fmt(metrics, f'{ap}_50'),
                          _fmt(metrics, f'{ap}_75'), _fmt(metrics, f'{prefix}AR_{measure}')])
    return format_table(table, header=('subset', 'measure', 'AP', 'AP_50', 'AP_75', 'AR'),
                        style='grid', align='l')


def format_protocol_table(metrics: Dict[str, float]) -> str:
    """The keys grouped by the protocol whose table they reproduce (:data:`PROTOCOL_COLUMNS`),
    one row per column of that table: protocol, column, key, value (``-``: not evaluable).
    Columns whose key is absent are left out, protocols without any key too."""
    table = []
    for protocol, columns in PROTOCOL_COLUMNS:
        present = [(column, key) for column, key in columns if key in metrics]
        for n, (column, key) in enumerate(present):
            table.append([protocol if n == 0 else '', column, key, _fmt(metrics, key)])
    return format_table(table, header=('protocol', 'column', 'key', 'value'), style='grid',
                        align='l')


def format_classwise_table(per_class: Dict[str, Dict[str, float]]) -> str:
    """Per-category AP of the all and occluded subsets, a row per category."""
    keys: List[str] = []
    for values in per_class.values():
        keys += [k for k in values if k not in keys]
    table = [[name] + [_fmt(values, k) for k in keys] for name, values in per_class.items()]
    return format_table(table, header=['category'] + keys, style='grid', align='l')


def format_copypaste(metrics: Dict[str, float]) -> str:
    """``AP_AV AP_A AP_V occ_AP_AV occ_AP_A occ_AP_V occ_AP_IV50`` on one line."""
    return ' '.join(f'{metrics.get(k, -1.):.3f}' for k in COPYPASTE_KEYS)


def format_order_line(metrics: Dict[str, float]) -> str:
    """``occlusion order: order_acc <value>  order_F1 <value>`` (``-`` where not evaluable)."""
    return 'occlusion order: ' + '  '.join(f'{key} {_fmt(metrics, key) or "-"}'
                                           for key in ORDER_KEYS)


def report_amodal(evaluation: AmodalEvalResult,
                  logger: Union[logging.Logger, str, None] = 'current') -> Dict[str, float]:
    """Log the summary table, the keys by protocol (and the per-class table, when computed), the
    occlusion-order line and the copy-paste line, as mmdet's CocoMetric does.

    Returns:
        dict: The result keys (without ``amodal/``), per-class ones as ``{class}_{key}``.
    """
    metrics = dict(evaluation.metrics)
    print_log('\n' + format_amodal_table(metrics), logger=logger)
    print_log('The keys by protocol:\n' + format_protocol_table(metrics), logger=logger)
    if any(key in metrics for key in ORDER_KEYS):
        print_log(format_order_line(metrics), logger=logger)
    if evaluation.per_class:
        print_log('\n' + format_classwise_table(evaluation.per_class), logger=logger)
        for name, values in evaluation.per_class.items():
            metrics.update({f'{name}_{key}': value for key, value in values.items()})
    print_log(f'amodal_copypaste: {format_copypaste(evaluation.metrics)}', logger=logger)
    return metrics
