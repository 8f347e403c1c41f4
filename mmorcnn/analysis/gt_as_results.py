"""The ground truth of an annotation file as amodal detections (a sanity check of the metric).

Every non-crowd object becomes a detection with its own amodal, visible and invisible masks
(scores descend in file order), in the schema of
``mmorcnn/evaluation/functional/amodal_results.py``. Evaluated against the same file it gives 1 for
every AP and for ``order_acc`` / ``order_F1``; ``swap_occluded`` swaps the visible and invisible
masks of every occluded object, which reverses its occlusion relations, so the order keys drop.
"""
import json

from mmorcnn.datasets.amodal_format import load_amodal_coco
from mmorcnn.evaluation.functional import AmodalDetections


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


def write_ground_truth_results(ann_file: str, out_file: str,
                               swap_occluded: bool = False) -> AmodalDetections:
    """Write :func:`ground_truth_detections` of ``ann_file`` as a results file; return them."""
    detections = ground_truth_detections(ann_file, swap_occluded)
    with open(out_file, 'w') as f:
        json.dump(detections.to_json(), f)
    return detections
