"""pycocotools' ``COCOeval(..., 'segm')`` configured as the later literature configures it, for
the tests of the literature protocols (an independent reference: plain pycocotools, masks decoded
to pixels with numpy for every area and fraction).

* AISFormer / VRSP-Net: every ground truth's ``area`` set to ``1 - occlude_rate`` and every
  detection's to ``|A AND V| / |A|`` after ``loadRes`` (their modified ``COCO`` does not overwrite
  it), ``areaRng`` ``[[0, 1], [0, .85], [0, .75], [0, .6]]``;
* COCO's size bins: pycocotools as it is, ground-truth ``area`` from the file, detections without
  ``bbox`` (so ``loadRes`` takes the mask area, as mmdet and detectron2 do for segm);
* aistron's "occluded" AP: the invisible masks, ground truth and detections with an empty
  invisible mask left out, the detections after COCOeval's ``max_dets`` cut (aistron's
  ``evaluateImg`` drops them after it).
"""
import contextlib
import io
from typing import Dict, List, Optional, Sequence

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from mmorcnn.evaluation.functional import AmodalDetections
from mmorcnn.structures.mask_utils import rle_to_mask

AISFORMER_AREA_RNG = [[0, 1.0], [0, 0.85], [0, 0.75], [0, 0.6]]
BIN_KEYS = ('occ15', 'occ25', 'occ40')
SIZE_KEYS = ('s', 'm', 'l')


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values[values > -1])) if (values > -1).any() else -1.


def _pixels(rle: dict) -> np.ndarray:
    return rle_to_mask(rle).astype(bool)


def run_cocoeval(gt: dict, results: List[dict], use_cats: bool, max_dets: int,
                 area_rng: Optional[list] = None,
                 det_areas: Optional[Sequence[float]] = None) -> COCOeval:
    """evaluate + accumulate; ``det_areas[i]`` replaces the area of ``results[i]``."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        coco_dt = coco.loadRes(results) if results else COCO()
        if not results:
            coco_dt.dataset = dict(images=gt['images'], categories=gt['categories'],
                                   annotations=[])
            coco_dt.createIndex()
        if det_areas is not None:
            for ann, area in zip(coco_dt.dataset['annotations'], det_areas):
                ann['area'] = float(area)
        ev = COCOeval(coco, coco_dt, 'segm')
        ev.params.useCats = int(use_cats)
        ev.params.maxDets = [max_dets]
        if area_rng is not None:
            ev.params.areaRng = area_rng
            ev.params.areaRngLbl = [str(i) for i in range(len(area_rng))]
        ev.evaluate()
        ev.accumulate()
    return ev


def _gt(anns_by_image: Dict[int, List[dict]], images: List[dict], categories: List[dict],
        mask: str, area_of=None, keep=None) -> dict:
    annotations = [
        dict(id=a['id'], image_id=a['image_id'], category_id=a['category_id'],
             iscrowd=a['iscrowd'], area=area_of(a) if area_of else a['area'],
             segmentation=a[mask])
        for img in images for a in anns_by_image[img['id']] if keep is None or keep(a)]
    return dict(images=images, categories=categories, annotations=annotations)


def _results(dets: AmodalDetections, mask: str, index: Sequence[int]) -> List[dict]:
    masks = {'amodal': dets.amodal, 'visible': dets.visible if dets.visible is not None
             else dets.amodal, 'invisible': dets.invisible}[mask]
    return [dict(image_id=int(dets.image_ids[i]), category_id=int(dets.category_ids[i]),
                 score=float(dets.scores[i]), segmentation=masks[i]) for i in index]


def visible_fractions(dets: AmodalDetections) -> np.ndarray:
    """``|A AND V| / |A|`` of every detection from the decoded masks (NaN for empty A)."""
    visible = dets.visible if dets.visible is not None else dets.amodal
    out = []
    for a, v in zip(dets.amodal, visible):
        a, v = _pixels(a), _pixels(v)
        with np.errstate(invalid='ignore', divide='ignore'):
            out.append(np.float64(np.logical_and(a, v).sum()) / np.float64(a.sum()))
    return np.asarray(out, dtype=np.float64)


def aisformer_bins(anns_by_image, images, categories, dets: AmodalDetections,
                   use_cats: bool = True, max_dets: int = 100) -> Dict[str, float]:
    """``occ{15,25,40}_AP_{A,V}`` as AISFormer's / VRSP-Net's pycocotools computes them."""
    index = range(len(dets))
    fractions = visible_fractions(dets)
    out = {}
    for mask, measure in (('amodal', 'A'), ('visible', 'V')):
        ev = run_cocoeval(_gt(anns_by_image, images, categories, mask,
                              area_of=lambda a: 1 - a['occlude_rate']),
                          _results(dets, mask, index), use_cats, max_dets,
                          area_rng=AISFORMER_AREA_RNG, det_areas=fractions)
        precision = ev.eval['precision']
        for a, name in enumerate(BIN_KEYS, start=1):
            out[f'{name}_AP_{measure}'] = _mean(precision[:, :, :, a, -1])
    return out


def coco_size_bins(anns_by_image, images, categories, dets: AmodalDetections,
                   use_cats: bool = True, max_dets: int = 100) -> Dict[str, float]:
    """``AP_A_{s,m,l}``: pycocotools' default area ranges on the amodal masks."""
    ev = run_cocoeval(_gt(anns_by_image, images, categories, 'amodal'),
                      _results(dets, 'amodal', range(len(dets))), use_cats, max_dets)
    precision = ev.eval['precision']
    return {f'AP_A_{name}': _mean(precision[:, :, :, a, -1])
            for a, name in enumerate(SIZE_KEYS, start=1)}


def cocoeval_cut(dets: AmodalDetections, category_ids: Sequence[int], use_cats: bool,
                 max_dets: int) -> List[int]:
    """Indices of the detections COCOeval keeps per image (and category): in results order
    (class-agnostic: by category first), stable-sorted by descending score, the first
    ``max_dets``."""
    order = {c: k for k, c in enumerate(sorted(category_ids))}
    groups: Dict[tuple, List[int]] = {}
    for i in range(len(dets)):
        cat = int(dets.category_ids[i])
        if cat not in order:
            continue
        groups.setdefault((int(dets.image_ids[i]), cat if use_cats else -1), []).append(i)
    kept = []
    for members in groups.values():
        if not use_cats:
            members = sorted(members, key=lambda i: order[int(dets.category_ids[i])])
        members = sorted(members, key=lambda i: -dets.scores[i])
        kept += members[:max_dets]
    return sorted(kept)


def aistron_occluded(anns_by_image, images, categories, dets: AmodalDetections,
                     use_cats: bool = True, max_dets: int = 100) -> Dict[str, float]:
    """``occ_AP_IV`` / ``occ_AP_IV75``: COCO AP on the non-empty invisible masks."""
    kept = [i for i in cocoeval_cut(dets, [c['id'] for c in categories], use_cats, max_dets)
            if _pixels(dets.invisible[i]).any()]
    ev = run_cocoeval(_gt(anns_by_image, images, categories, 'invisible',
                          keep=lambda a: _pixels(a['invisible']).any()),
                      _results(dets, 'invisible', kept), use_cats, max_dets)
    precision = ev.eval['precision'][..., 0, -1]
    return {'occ_AP_IV': _mean(precision), 'occ_AP_IV75': _mean(precision[5])}


def literature_keys(anns_by_image, images, categories, dets: AmodalDetections,
                    use_cats: bool = True, max_dets: int = 100) -> Dict[str, float]:
    """Every key of the literature protocols, from pycocotools."""
    out = aisformer_bins(anns_by_image, images, categories, dets, use_cats, max_dets)
    out.update(coco_size_bins(anns_by_image, images, categories, dets, use_cats, max_dets))
    if dets.invisible is not None:
        out.update(aistron_occluded(anns_by_image, images, categories, dets, use_cats,
                                    max_dets))
    return out
