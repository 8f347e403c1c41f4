"""An independent, deliberately plain implementation of the amodal measures for the tests.

Written from the definitions of docs/metric.md alone: masks are decoded to pixels, IoUs are
pixel counts, every (image, category) is matched in Python loops and AP is the mean over
categories and thresholds of the 101-point interpolated precision. It shares no code with
``mmorcnn.evaluation.functional`` beyond reading RLEs.
"""
from typing import Dict, List, Optional

import numpy as np

from mmorcnn.evaluation.functional import AmodalDetections
from mmorcnn.structures.mask_utils import rle_to_mask

# COCO's thresholds as pycocotools computes them (0.5 + 0.05 * 7 would be one ulp above 0.85).
THRESHOLDS = list(np.linspace(.5, 0.95, 10))


def _iou(det: np.ndarray, gt: np.ndarray, crowd: bool) -> float:
    inter = float(np.logical_and(det, gt).sum())
    union = float(det.sum()) if crowd else float(np.logical_or(det, gt).sum())
    return inter / union if union > 0 else 0.


# COCOA's amodalAPI (myPyAmodalEvalDemo.py): occRng per level; amodaleval.py ignores a ground
# truth when ``occlude_rate < occRng[0] or occlude_rate > occRng[1]``.
AMODALAPI_OCC_RANGES = {'none': [0, 0.00001], 'partial': [0.00001, 0.25], 'heavy': [0.25, 1]}


def _outside(subset: str, ann: dict) -> bool:
    rate = ann['occlude_rate']
    if subset in AMODALAPI_OCC_RANGES:
        low, high = AMODALAPI_OCC_RANGES[subset]
        return rate < low or rate > high
    return {
        'all': False,
        'occluded': rate == 0,
        'things': bool(ann.get('isstuff', 0)),
        'stuff': not ann.get('isstuff', 0),
    }[subset]


def brute_force(anns_by_image: Dict[int, List[dict]], cat_ids: List[int],
                dets: AmodalDetections, subset: str, measure: str,
                thresholds: Optional[List[float]] = None, class_agnostic: bool = False,
                max_dets: int = 100, remove: Optional[bool] = None) -> Dict[str, float]:
    """``{'AP': ..., 'AR': ...}`` of one measure (A, V, AV, IV) on one subset; -1 if no GT.

    ``remove`` applies section 3.3's rule (drop the detections whose amodal mask has IoU >= 0.5
    with an ignored ground truth); by default for V and IV on the occluded subset.

    Detection scores must be distinct (ties are broken by COCO's conventions, which this
    implementation does not model).
    """
    thresholds = THRESHOLDS if thresholds is None else thresholds
    if remove is None:
        remove = subset == 'occluded' and measure in ('V', 'IV')
    visible = dets.visible if dets.visible is not None else dets.amodal

    def group_of(cat):
        return 0 if class_agnostic else cat

    # outcome[group][t] = list of (score, 'tp' | 'fp' | 'ignored'); npos[group]
    outcome: Dict[int, List[list]] = {}
    npos: Dict[int, int] = {}
    for img_id, anns in anns_by_image.items():
        anns = [a for a in anns if a['category_id'] in cat_ids]
        for group in {group_of(c) for c in cat_ids}:
            gts = [a for a in anns if group_of(a['category_id']) == group]
            ignored = [bool(a['iscrowd']) or _outside(subset, a) for a in gts]
            npos[group] = npos.get(group, 0) + sum(not i for i in ignored)
            idx = [i for i in range(len(dets)) if dets.image_ids[i] == img_id and
                   dets.category_ids[i] in cat_ids and
                   group_of(dets.category_ids[i]) == group]
            idx = sorted(idx, key=lambda i: -dets.scores[i])[:max_dets]
            gt_a = [rle_to_mask(a['amodal']) for a in gts]
            masks = {
                'A': ([rle_to_mask(dets.amodal[i]) for i in idx], gt_a),
                'V': ([rle_to_mask(visible[i]) for i in idx],
                      [rle_to_mask(a['visible']) for a in gts]),
                'IV': ([rle_to_mask(dets.invisible[i]) for i in idx]
                       if dets.invisible is not None else [],
                       [rle_to_mask(a['invisible']) for a in gts]),
            }
            crowd = [bool(a['iscrowd']) for a in gts]
            iou_a = [[_iou(d, g, c) for g, c in zip(gt_a, crowd)] for d in masks['A'][0]]
            if remove:
                occ_ignored = [bool(a['iscrowd']) or a['occlude_rate'] == 0 for a in gts]
                keep = [n for n in range(len(idx))
                        if not any(iou_a[n][j] >= 0.5 and occ_ignored[j]
                                   for j in range(len(gts)))]
            else:
                keep = list(range(len(idx)))

            def iou(n, j):
                if measure == 'AV':
                    return min(iou_a[n][j], _iou(masks['V'][0][n], masks['V'][1][j], crowd[j]))
                if measure == 'A':
                    return iou_a[n][j]
                return _iou(masks[measure][0][n], masks[measure][1][j], crowd[j])

            rows = outcome.setdefault(group, [[] for _ in thresholds])
            for t_index, t in enumerate(thresholds):
                taken = [False] * len(gts)
                for n in keep:
                    free = [j for j in range(len(gts)) if (not taken[j] or crowd[j]) and
                            iou(n, j) >= t]
                    regular = [j for j in free if not ignored[j]]
                    pool = regular if regular else free
                    if not pool:
                        rows[t_index].append((dets.scores[idx[n]], 'fp'))
                        continue
                    best = max(iou(n, j) for j in pool)
                    j = [j for j in pool if iou(n, j) == best][-1]
                    taken[j] = True
                    rows[t_index].append(
                        (dets.scores[idx[n]], 'ignored' if ignored[j] else 'tp'))

    aps, ars = [], []
    for group, rows in outcome.items():
        if npos[group] == 0:
            continue
        for row in rows:
            row = sorted((r for r in row if r[1] != 'ignored'), key=lambda r: -r[0])
            tp = np.cumsum([r[1] == 'tp' for r in row])
            fp = np.cumsum([r[1] == 'fp' for r in row])
            recall = tp / npos[group]
            precision = tp / np.maximum(tp + fp, 1)
            interp = [max([p for p, r in zip(precision, recall) if r >= rt], default=0.)
                      for rt in np.linspace(0, 1, 101)]
            aps.append(np.mean(interp))
            ars.append(recall[-1] if len(row) else 0.)
    if not aps:
        return {'AP': -1., 'AR': -1.}
    return {'AP': float(np.mean(aps)), 'AR': float(np.mean(ars))}
