"""Write the ground truth of an annotation file as an amodal results file (a sanity check).

    python tools/analysis_tools/gt_as_results.py GT.json OUT.amodal.json [--swap-occluded]
    python tools/analysis_tools/eval_amodal.py GT.json OUT.amodal.json

Every non-crowd object becomes a detection with its own amodal, visible and invisible masks
(scores descend in file order), in the schema of
``mmorcnn/evaluation/functional/amodal_results.py``. Evaluated against the same file it gives 1 for
every AP and for ``order_acc`` / ``order_F1``; ``--swap-occluded`` swaps the visible and invisible
masks of every occluded object, which reverses its occlusion relations, so the order keys drop.
"""
import argparse
import json
import os.path as osp
import sys

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
if osp.isfile(osp.join(REPO_ROOT, 'mmorcnn', '__init__.py')):  # run from a checkout: no install
    sys.path.insert(0, REPO_ROOT)

from mmorcnn.datasets.amodal_format import load_amodal_coco  # noqa: E402
from mmorcnn.evaluation.functional import AmodalDetections  # noqa: E402


def ground_truth_detections(ann_file: str, swap_occluded: bool = False) -> AmodalDetections:
    """The non-crowd objects of ``ann_file`` as detections (see the module docstring)."""
    gt = load_amodal_coco(ann_file)
    anns = [a for img in gt.images for a in gt.anns_by_image[img['id']] if not a['iscrowd']]
    swap = [swap_occluded and a['occlude_rate'] > 0 for a in anns]
    return AmodalDetections(
        image_ids=[a['image_id'] for a in anns],
        category_ids=[a['category_id'] for a in anns],
        scores=[1. - k / (len(anns) + 1) for k in range(len(anns))],
        amodal=[a['amodal'] for a in anns],
        visible=[a['invisible'] if s else a['visible'] for a, s in zip(anns, swap)],
        invisible=[a['visible'] if s else a['invisible'] for a, s in zip(anns, swap)],
        bboxes=[a['bbox'] for a in anns])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file', help='annotation file in the canonical amodal format')
    parser.add_argument('out_file', help='results file to write')
    parser.add_argument('--swap-occluded', action='store_true',
                        help='swap the visible and invisible masks of every occluded object')
    args = parser.parse_args(argv)
    detections = ground_truth_detections(args.ann_file, args.swap_occluded)
    with open(args.out_file, 'w') as f:
        json.dump(detections.to_json(), f)
    swapped = ' (visible and invisible masks of occluded objects swapped)' \
        if args.swap_occluded else ''
    print(f'{len(detections)} ground-truth objects written to {args.out_file}{swapped}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
