"""Precision-recall curves of the amodal evaluation (paper 3.3) as a PNG.

The curves are COCOeval's interpolated precision at the 101 recall thresholds, read from
:attr:`~mmorcnn.evaluation.functional.AmodalEvalResult.precision` and averaged over the
categories that have ground truth (COCOeval's ``-1`` entries left out), so that the mean of a
curve is the AP the metric reports for it.
"""
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np

#: (row title, subset key prefix, measures) of the figure's rows.
PR_ROWS = (('all objects', '', ('A', 'V', 'AV')),
           ('occluded objects', 'occ_', ('A', 'V', 'AV', 'IV')))
#: The IoU thresholds of the figure's columns; None: the mean over 0.50:0.05:0.95.
PR_IOUS = (0.5, 0.75, None)
#: A fixed colour per measure (matplotlib's tab10), the same in every panel.
MEASURE_COLORS = {'A': 'tab:blue', 'V': 'tab:orange', 'AV': 'tab:green', 'IV': 'tab:red'}


def pr_curve(precision: np.ndarray, iou_thrs: np.ndarray,
             iou: Optional[float]) -> Optional[np.ndarray]:
    """Precision at the recall thresholds, averaged over categories with ground truth.

    Args:
        precision (np.ndarray): ``(T, R, K)`` interpolated precision, ``-1`` where a category
            has no ground truth at a threshold.
        iou_thrs (np.ndarray): The ``T`` IoU thresholds of ``precision``.
        iou (float, optional): The IoU threshold of the curve; None averages over all ``T``.

    Returns:
        np.ndarray | None: ``(R,)`` precision, or None if nothing is evaluable at ``iou``.
    """
    if iou is not None:
        rows = np.flatnonzero(np.isclose(iou_thrs, iou))
        if rows.size == 0:
            return None
        precision = precision[rows]
    # (T, R, K) -> (R, T * K): a category with no ground truth is -1 at every recall
    per_recall = np.moveaxis(precision, 1, 0).reshape(precision.shape[1], -1)
    valid = per_recall[0] > -1
    if not valid.any():
        return None
    return per_recall[:, valid].mean(axis=1)


def plot_pr_curves(evaluation, out_file: str, title: Optional[str] = None,
                   iou_thrs: Optional[Sequence[float]] = None) -> str:
    """Write the precision-recall curves of ``evaluation`` to ``out_file`` (PNG).

    Rows: all objects (A, V, AV) and occluded objects (A, V, AV, and IV at IoU 0.5, the only
    threshold AP_IV is evaluated at, 3.3). Columns: IoU 0.5, IoU 0.75 and the mean over
    0.50:0.95. Each legend entry carries the curve's AP; a curve that cannot be evaluated (no
    ground truth in the subset, no invisible masks predicted) is listed as ``n/a``.

    Args:
        evaluation (AmodalEvalResult): What :func:`evaluate_amodal` returned.
        out_file (str): The PNG to write; its folder is created.
        title (str, optional): The figure's title. Defaults to None.
        iou_thrs (Sequence[float], optional): IoU thresholds of the ``T`` axis of the A / V / AV
            arrays. Defaults to None: COCO's 0.50:0.05:0.95.

    Returns:
        str: ``out_file``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from mmorcnn.evaluation.functional.amodal_eval import IOU_THRS, IV_IOU_THR, REC_THRS
    iou_thrs = IOU_THRS if iou_thrs is None else np.asarray(iou_thrs)
    fig, axes = plt.subplots(len(PR_ROWS), len(PR_IOUS), figsize=(13.5, 8.4), dpi=100,
                             sharex=True, sharey=True, squeeze=False)
    for r, (row_title, prefix, measures) in enumerate(PR_ROWS):
        for c, iou in enumerate(PR_IOUS):
            ax = axes[r, c]
            for measure in measures:
                label, curve = _curve_of(evaluation, prefix, measure, iou, iou_thrs, IV_IOU_THR)
                if label is None:
                    continue
                if curve is None:
                    ax.plot([], [], color=MEASURE_COLORS[measure], label=f'{label}: n/a')
                else:
                    ax.plot(REC_THRS, 100 * curve, color=MEASURE_COLORS[measure], lw=1.6,
                            label=f'{label}: AP {100 * curve.mean():.1f}')
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 101)
            ax.grid(alpha=0.3)
            ax.legend(loc='upper right', fontsize=8, frameon=True)
            iou_text = 'IoU 0.50:0.95 (mean)' if iou is None else f'IoU {iou:.2f}'
            ax.set_title(f'{row_title}, {iou_text}', fontsize=10)
            if r == len(PR_ROWS) - 1:
                ax.set_xlabel('recall')
            if c == 0:
                ax.set_ylabel('precision (%)')
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file)
    plt.close(fig)
    return out_file


def _curve_of(evaluation, prefix: str, measure: str, iou: Optional[float],
              iou_thrs: np.ndarray, iv_iou: float) -> Tuple[Optional[str], Optional[np.ndarray]]:
    """The legend label and curve of one measure in one panel; label None: not drawn there
    (IV exists at IoU 0.5 only)."""
    name = f'{prefix}{measure}'
    if measure == 'IV':
        if iou is None or not np.isclose(iou, iv_iou):
            return None, None
        label = f'IV@{iv_iou:.1f}'
        if evaluation.metrics.get(f'{prefix}AP_IV{int(round(iv_iou * 100))}', -1) < 0:
            return label, None
        thrs = np.array([iv_iou])
    else:
        label, thrs = measure, iou_thrs
    if name not in evaluation.precision:
        return label, None
    return label, pr_curve(evaluation.precision[name], thrs, iou)

