"""Which score threshold keeps an overlay free of duplicate detections: per threshold, the
detections drawn per image, the duplicates among them and the ground truth they still find.

    python tools/analysis_tools/overlay_threshold.py GT.json RESULTS.json [--thrs 0.3 0.4 0.5]

RESULTS.json is the file ``AmodalCocoMetric(outfile_prefix=P)`` writes (``P.amodal.json``), e.g.
``mim test mmorcnn CONFIG --checkpoint CKPT --cfg-options test_evaluator.outfile_prefix=P``.
A duplicate is a drawn detection whose amodal mask has IoU > 0.5 with a higher-scoring drawn
detection of the same class in the same image (mmdet's NMS compares boxes only, per class). A
ground-truth object (not crowd) is found if a drawn detection of its class has amodal mask IoU
>= 0.5 with it.
"""
import argparse
import json
import os.path as osp
import sys
from collections import defaultdict

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
if osp.isfile(osp.join(REPO_ROOT, 'mmorcnn', '__init__.py')):  # run from a checkout: no install
    sys.path.insert(0, REPO_ROOT)

import numpy as np  # noqa: E402

from mmorcnn.datasets.amodal_format import load_amodal_coco  # noqa: E402
from mmorcnn.evaluation.functional import AmodalDetections  # noqa: E402
from mmorcnn.structures.mask_utils import rle_iou  # noqa: E402


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file', help='annotation file in the canonical amodal format')
    parser.add_argument('results', help='results file written by AmodalCocoMetric')
    parser.add_argument('--thrs', type=float, nargs='+',
                        default=[0.05, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    args = parser.parse_args(argv)
    gt = load_amodal_coco(args.ann_file)
    with open(args.results) as f:
        dets = AmodalDetections.from_json(json.load(f))
    print(f'{len(dets)} detections on {len(gt.anns_by_image)} images')
    print('| score > | drawn per image | duplicates drawn | GT found (IoU_A >= 0.5) |')
    print('| ---: | ---: | ---: | ---: |')
    for thr, per_image, dup, found, total in threshold_table(gt, dets, args.thrs):
        print(f'| {thr:g} | {per_image:.1f} | {dup} | {found} / {total} ({found / total:.0%}) |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
