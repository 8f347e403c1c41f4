"""Which score threshold keeps an overlay free of duplicate detections: per threshold, the
detections drawn per image, the duplicates among them and the ground truth they still find.

A duplicate is a drawn detection whose amodal mask has IoU > 0.5 with a higher-scoring drawn
detection of the same class in the same image (mmdet's NMS compares boxes only, per class). A
ground-truth object (not crowd) is found if a drawn detection of its class has amodal mask IoU
>= 0.5 with it.
"""
import json
from collections import defaultdict
from typing import List, Sequence

import numpy as np

from mmorcnn.datasets.amodal_format import load_amodal_coco
from mmorcnn.evaluation.functional import AmodalDetections
from mmorcnn.structures.mask_utils import rle_iou

#: The thresholds the tool compares by default.
DEFAULT_THRS = (0.05, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def threshold_table(gt, dets: AmodalDetections, thrs) -> list:
    """``[(thr, drawn per image, duplicates, found, total GT), ...]``."""
    by_image = defaultdict(list)
    for i in range(len(dets)):
        by_image[int(dets.image_ids[i])].append(i)
    rows = []
    num_gt = sum(1 for anns in gt.anns_by_image.values() for a in anns if not a['iscrowd'])
    for thr in thrs:
        drawn = duplicates = found = 0
        for img_id, anns in gt.anns_by_image.items():
            idx = sorted((i for i in by_image.get(img_id, []) if dets.scores[i] > thr),
                         key=lambda i: -dets.scores[i])
            drawn += len(idx)
            masks = [dets.amodal[i] for i in idx]
            cats = np.array([dets.category_ids[i] for i in idx])
            ious = rle_iou(masks, masks)
            for k in range(1, len(idx)):
                same = cats[:k] == cats[k]
                duplicates += int((ious[k, :k][same] > 0.5).any())
            objects = [a for a in anns if not a['iscrowd']]
            gt_ious = rle_iou(masks, [a['amodal'] for a in objects])
            for j, obj in enumerate(objects):
                same = cats == obj['category_id']
                found += int(len(idx) > 0 and (gt_ious[same, j] >= 0.5).any())
        rows.append((thr, drawn / max(len(gt.anns_by_image), 1), duplicates, found, num_gt))
    return rows


def threshold_report(ann_file: str, results_file: str,
                     thrs: Sequence[float] = DEFAULT_THRS) -> List[str]:
    """The lines of the tool's Markdown table for the results file ``results_file`` (written by
    ``AmodalCocoMetric``) on the ground truth ``ann_file``, one row per threshold."""
    gt = load_amodal_coco(ann_file)
    with open(results_file) as f:
        dets = AmodalDetections.from_json(json.load(f))
    lines = [f'{len(dets)} detections on {len(gt.anns_by_image)} images',
             '| score > | drawn per image | duplicates drawn | GT found (IoU_A >= 0.5) |',
             '| ---: | ---: | ---: | ---: |']
    for thr, per_image, dup, found, total in threshold_table(gt, dets, thrs):
        lines.append(f'| {thr:g} | {per_image:.1f} | {dup} | {found} / {total} '
                     f'({found / total:.0%}) |')
    return lines
