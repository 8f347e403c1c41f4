"""Small random amodal ground truth and detections for the metric tests.

Scenes are drawn front to back: the visible mask of an object is its amodal mask minus the amodal
masks of the objects in front, so occlusion (and ``occlude_rate``) is exact. Detections are
jittered copies of the ground truth (often good matches, sometimes poor ones, sometimes of
another class) plus random false positives, with distinct random scores.
"""
from typing import Dict, List, Tuple

import numpy as np

from mmorcnn.evaluation.functional import AmodalDetections
from mmorcnn.structures.mask_utils import mask_to_rle, rle_area, rle_to_bbox, rle_to_mask


def _blob(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A random filled ellipse or rectangle, never empty."""
    yy, xx = np.mgrid[:h, :w]
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    ry, rx = rng.uniform(3, h / 2.5), rng.uniform(3, w / 2.5)
    if rng.random() < 0.5:
        m = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    else:
        m = (abs(yy - cy) <= ry) & (abs(xx - cx) <= rx)
    if not m.any():
        m[min(int(cy), h - 1), min(int(cx), w - 1)] = True
    return m


def _jitter(rng: np.random.Generator, mask: np.ndarray, strength: int) -> np.ndarray:
    """Shift a mask and flip a few pixels at its border."""
    dy, dx = rng.integers(-strength, strength + 1, size=2)
    out = np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    if strength and rng.random() < 0.5:
        grow = np.zeros_like(out)
        grow[1:] |= out[:-1]
        grow[:, 1:] |= out[:, :-1]
        out = grow if rng.random() < 0.5 else out & grow
    return out


def random_scene(seed: int, num_images: int = 12, num_cats: int = 3, size: Tuple[int, int] = (
        40, 48), crowd_prob: float = 0.08, occluded: bool = True, stuff: bool = False,
                 dets_visible: bool = True, dets_invisible: bool = True,
                 empty_images: int = 2) -> Tuple[Dict[int, List[dict]], List[dict], List[dict],
                                                 AmodalDetections]:
    """Ground truth and detections of a random dataset.

    Returns:
        tuple: ``anns_by_image`` (parsed annotations as the loader gives them), ``images``,
        ``categories`` and the :class:`AmodalDetections`. Image ids are shuffled, not in file
        order; the last ``empty_images`` images have no ground truth.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    cat_ids = [int(c) for c in rng.choice(np.arange(1, 20), size=num_cats, replace=False)]
    categories = [dict(id=c, name=f'class{c}') for c in cat_ids]
    img_ids = [int(i) for i in rng.permutation(np.arange(100, 100 + num_images))]
    images = [dict(id=i, file_name=f'{i}.png', height=h, width=w) for i in img_ids]
    anns_by_image: Dict[int, List[dict]] = {}
    det_cols = dict(image_ids=[], category_ids=[], scores=[], amodal=[], visible=[],
                    invisible=[], bboxes=[])
    ann_id = 1
    for n, img_id in enumerate(img_ids):
        anns = []
        front = np.zeros((h, w), dtype=bool)
        num_objects = 0 if n >= num_images - empty_images else int(rng.integers(1, 7))
        for _ in range(num_objects):
            amodal = _blob(rng, h, w)
            crowd = rng.random() < crowd_prob
            visible = amodal if (crowd or not occluded) else amodal & ~front
            if not visible.any():
                continue
            invisible = amodal & ~visible
            front |= amodal
            a = mask_to_rle(amodal)
            anns.append(dict(
                id=ann_id, image_id=img_id, category_id=int(rng.choice(cat_ids)),
                iscrowd=int(crowd), area=float(rle_area([a])[0]), bbox=rle_to_bbox(a),
                occlude_rate=float(invisible.sum() / amodal.sum()), amodal=a,
                visible=mask_to_rle(visible), invisible=mask_to_rle(invisible)))
            if stuff:
                anns[-1]['isstuff'] = int(rng.random() < 0.3)
            ann_id += 1
        anns_by_image[img_id] = anns

        dets = []
        for ann in anns:
            for _ in range(int(rng.integers(0, 4))):
                gt_amodal = _decode(ann['amodal'])
                gt_visible = _decode(ann['visible'])
                strength = int(rng.choice([0, 1, 2, 4]))
                amodal = _jitter(rng, gt_amodal, strength)
                visible = amodal & _jitter(rng, gt_visible, strength)
                cat = ann['category_id'] if rng.random() < 0.85 else int(rng.choice(cat_ids))
                dets.append((cat, amodal, visible))
        for _ in range(int(rng.integers(0, 4))):
            amodal = _blob(rng, h, w)
            visible = amodal & _jitter(rng, _blob(rng, h, w) | amodal, 2)
            dets.append((int(rng.choice(cat_ids)), amodal, visible))
        for k in rng.permutation(len(dets)):
            cat, amodal, visible = dets[k]
            a = mask_to_rle(amodal)
            det_cols['image_ids'].append(img_id)
            det_cols['category_ids'].append(cat)
            det_cols['scores'].append(float(rng.random()))
            det_cols['amodal'].append(a)
            det_cols['visible'].append(mask_to_rle(visible))
            det_cols['invisible'].append(mask_to_rle(amodal & ~visible))
            det_cols['bboxes'].append(rle_to_bbox(a))
    if not dets_visible:
        det_cols['visible'] = None
    if not dets_invisible:
        det_cols['invisible'] = None
    return anns_by_image, images, categories, AmodalDetections(**det_cols)


def _decode(rle: dict) -> np.ndarray:
    return rle_to_mask(rle).astype(bool)


def to_coco_gt(anns_by_image: Dict[int, List[dict]], images: List[dict], categories: List[dict],
               mask: str) -> dict:
    """A COCO ground-truth dict whose ``segmentation`` is the given mask (amodal / visible)."""
    annotations = [
        dict(id=a['id'], image_id=a['image_id'], category_id=a['category_id'],
             iscrowd=a['iscrowd'], area=a['area'], bbox=a['bbox'], segmentation=a[mask])
        for img in images for a in anns_by_image[img['id']]
    ]
    return dict(images=images, categories=categories, annotations=annotations)


def to_coco_results(dets: AmodalDetections, mask: str) -> List[dict]:
    """COCO segm results whose ``segmentation`` is the given mask of the detections."""
    masks = {'amodal': dets.amodal, 'visible': dets.visible, 'invisible': dets.invisible}[mask]
    return [dict(image_id=int(dets.image_ids[i]), category_id=int(dets.category_ids[i]),
                 score=float(dets.scores[i]), segmentation=masks[i]) for i in range(len(dets))]


def to_annotation_file(anns_by_image: Dict[int, List[dict]], images: List[dict],
                       categories: List[dict]) -> dict:
    """The scene in the canonical annotation format (docs/annotation_format.md)."""
    annotations = []
    for img in images:
        for a in anns_by_image[img['id']]:
            ann = dict(id=a['id'], image_id=a['image_id'], category_id=a['category_id'],
                       iscrowd=a['iscrowd'], area=a['area'], bbox=a['bbox'],
                       segmentation=a['amodal'], visible_mask=a['visible'],
                       invisible_mask=a['invisible'], occlude_rate=a['occlude_rate'])
            if 'isstuff' in a:
                ann['isstuff'] = a['isstuff']
            annotations.append(ann)
    return dict(images=images, categories=categories, annotations=annotations)
