"""The amodal evaluation protocol of the paper (section 3.3, docs/metric.md).

AP and AR as in COCO (categories and IoU thresholds 0.50:0.05:0.95 averaged, greedy matching by
score, at most ``max_dets`` detections per image and category, crowd ground truth ignored), for
several kinds of IoU and several ground-truth subsets:

* measures: ``A`` amodal masks, ``V`` visible masks, ``AV`` a true positive needs IoU_A >= t *and*
  IoU_V >= t with the same ground truth (COCO matching on the element-wise minimum of the two IoU
  matrices), ``IV`` invisible masks at IoU 0.5 only;
* subsets: all objects; ``occ``: ground truth with ``occlude_rate == 0`` ignored exactly as COCOeval
  ignores ground truth (ordinary IoU, one detection at most per ignored object and threshold), and
  for ``V`` and ``IV`` the detections whose amodal mask has IoU >= 0.5 with an ignored ground truth
  of their class (crowd included, with COCO's crowd IoU) removed before matching, after the
  ``max_dets`` cut;
* ``things`` / ``stuff``: ground truth with COCOA's ``isstuff`` 1 (``things``) or 0 (``stuff``)
  ignored, for ``A`` only (amodalAPI's ``onlyThings`` 1 and 2);
* the occlusion levels of COCOA's official evaluation (amodalAPI, ``myPyAmodalEvalDemo.py``'s
  ``occRng`` as ``amodaleval.py`` applies it), for ``A`` only: a ground truth is in a level when
  ``lo <= occlude_rate <= hi`` on its *stated* ``occlude_rate`` (the file's value, not one
  re-derived from the masks), with :data:`OCCLUSION_LEVELS` ``none`` [0, 1e-5], ``partial``
  [1e-5, 0.25], ``heavy`` [0.25, 1]. The ranges are closed, so a rate of exactly 1e-5 is in
  ``none`` and ``partial``, a rate of exactly 0.25 in ``partial`` and ``heavy``, and a rate in
  (0, 1e-5) only in ``none``. Unlike ``occ`` (which ignores exactly the rates == 0), ``none``
  therefore holds the barely occluded objects too. Things and stuff both take part, as in
  amodalAPI with ``onlyThings=0``.

In these subsets, ground truth outside it is ignored and unmatched detections stay false
positives, as in amodalAPI. amodalAPI itself is class-agnostic (one category); with
``class_agnostic=False`` the same subsets are evaluated per category.

The protocols of the later literature (``literature_protocols``), each exactly pycocotools'
``COCOeval(..., 'segm')`` configured as the codebase that introduced it configures it:

* AISFormer / VRSP-Net occlusion bins ``occ15_AP_*``, ``occ25_AP_*``, ``occ40_AP_*`` for ``A``
  and ``V`` (their APs / APm / APl): their modified pycocotools replaces each ground truth's
  ``area`` by its visible fraction ``1 - occlude_rate`` and each detection's by ``|A AND V| /
  |A|`` of its predicted amodal and visible masks, with the area ranges of
  :data:`VISIBLE_FRACTION_BINS`. As COCOeval does with areas, ground truth outside the closed
  range is ignored, and a detection outside it is ignored when it matches nothing (a detection
  with an empty amodal mask has no visible fraction, NaN, and is never outside, as in
  pycocotools);
* COCO's size bins ``AP_A_s``, ``AP_A_m``, ``AP_A_l`` (:data:`SIZE_BINS`) on the amodal masks:
  the ground truth's ``area`` as the file states it, a detection's amodal mask area (pycocotools'
  ``loadRes`` of a segm results list without boxes), the same ignoring rule;
* aistron's "occluded" AP ``occ_AP_IV`` (IoU 0.50:0.95) and ``occ_AP_IV75``: COCO AP on the
  invisible masks over the ground truth and the detections with a non-empty invisible mask (the
  others are left out: a detection after the ``max_dets`` cut, as aistron's ``evaluateImg``
  drops them after it; a ground truth is ignored, which is the same as leaving it out since an
  empty mask has IoU 0 with everything). Unlike ``occ_AP_IV50`` it has no removal rule.

``order_acc`` and ``order_F1`` (:mod:`.occlusion_order_eval`) score the occlusion relations of
the detections matched by the AP_A matching at IoU 0.5 against the ground truth's
``occluder_ids``.

A model that predicts no visible masks is evaluated with its amodal masks as visible masks; one
that predicts no invisible masks gets ``occ_AP_IV50 = -1``. Measures without any not-ignored
ground truth are -1, as in COCO.

Every IoU matrix is computed once per image (all categories at once, pycocotools' IoU) and reused
by every key; matching and accumulation are vectorised (:mod:`.coco_matching`). ``AP_A`` and
``AP_V`` equal pycocotools' ``COCOeval(..., 'segm')`` on the amodal / visible masks.
"""
import logging
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log

from mmorcnn.structures.mask_utils import bytes_rles, rle_area, rle_intersection_areas, rle_iou
from mmorcnn.structures.occlusion_levels import OCCLUSION_LEVELS, PARTIAL_MAX  # noqa: F401
from .amodal_results import AmodalDetections
from .coco_matching import MATCHED, MatchRows, accumulate_precision_recall, match_detections
from .occlusion_order_eval import ORDER_IOU_THR, ORDER_KEYS, evaluate_occlusion_order

#: COCO's IoU thresholds 0.50:0.05:0.95 and recall thresholds 0:0.01:1 (as pycocotools builds
#: them, so that ``t == 0.75`` finds its index).
IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
#: AP_IV is evaluated at this IoU only (3.3: invisible masks are small).
IV_IOU_THR = 0.5
#: 3.3: for AP_V and AP_IV on occluded objects, proposals whose amodal mask has at least this IoU
#: with an ignored ground truth are removed ("meant for" a non-occluded object).
REMOVE_IOU_THR = 0.5
#: Share of the evaluated images without any detection above which the evaluation warns.
NO_DETECTION_WARN_SHARE = 0.5
#: AISFormer / VRSP-Net occlusion bins (their pycocotools' ``areaRng`` [0, .85], [0, .75],
#: [0, .6] on visible fractions): closed ranges of the visible fraction, ``1 - occlude_rate`` for
#: the ground truth and ``|A AND V| / |A|`` for a detection. ``occ15`` holds the objects at
#: least 15 % occluded.
VISIBLE_FRACTION_BINS = {'occ15': (0., .85), 'occ25': (0., .75), 'occ40': (0., .6)}
#: COCO's size bins (pycocotools ``Params.areaRng``): closed ranges of the amodal area in pixels.
SIZE_BINS = {'small': (0 ** 2, 32 ** 2), 'medium': (32 ** 2, 96 ** 2), 'large': (96 ** 2, 1e5 ** 2)}
#: The subset of aistron's "occluded" AP: ground truth and detections with an invisible mask.
NONEMPTY_INVISIBLE = 'nonempty_invisible'

# The kinds of IoU, rows of the pair IoU array.
_IOU_KINDS = ('A', 'V', 'AV', 'IV')
# Subsets of ground truth and the key prefix of each.
_SUBSET_PREFIX = {
    'all': '', 'occluded': 'occ_', 'things': 'things_', 'stuff': 'stuff_', 'none': 'none_',
    'partial': 'partial_', 'heavy': 'heavy_', NONEMPTY_INVISIBLE: 'nonempty_',
    **{name: f'{name}_' for name in VISIBLE_FRACTION_BINS}
}


class _Evaluation(NamedTuple):
    """One (subset, measure) pair: the rows of one matching setting."""
    subset: str
    measure: str
    iou_thrs: np.ndarray
    remove_meant_for_ignored: bool = False

    @property
    def name(self) -> str:
        if self.subset in SIZE_BINS:
            return f'{self.measure}_{self.subset[0]}'
        return f'{_SUBSET_PREFIX[self.subset]}{self.measure}'


@dataclass
class AmodalEvalResult:
    """What :func:`evaluate_amodal` returns.

    Attributes:
        metrics (dict): The result keys without the ``amodal/`` prefix (docs/metric.md),
            e.g. ``AP_AV``, ``occ_AP_V_50``, ``AR_A``, ``occ_AP_IV50``, ``things_AP_A``,
            ``heavy_AR_A``, ``order_acc``, ``order_F1``; fractions in [0, 1], -1 where not
            evaluable.
        per_class (dict): ``{category name: {key: value}}`` for the AP keys of the all and
            occluded subsets; empty unless ``classwise`` (and never class-agnostic).
        precision (dict): ``{name: (T, 101, K) array}`` per evaluation (``A``, ``occ_V``, ...),
            COCOeval's ``eval['precision'][..., 0, -1]``.
        recall (dict): ``{name: (T, K) array}``, COCOeval's ``eval['recall'][..., 0, -1]``.
        cat_ids (list[int]): The evaluated categories, in the order of the K axis (a single -1
            when class-agnostic).
        cat_names (list[str]): Their names.
    """
    metrics: Dict[str, float]
    per_class: Dict[str, Dict[str, float]] = field(default_factory=dict)
    precision: Dict[str, np.ndarray] = field(default_factory=dict)
    recall: Dict[str, np.ndarray] = field(default_factory=dict)
    cat_ids: List[int] = field(default_factory=list)
    cat_names: List[str] = field(default_factory=list)


def _mean_valid(values: np.ndarray) -> float:
    """COCOeval's summary: the mean over entries > -1, or -1 if there are none."""
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else -1.


def _keys_of(ev: _Evaluation) -> Dict[str, tuple]:
    """Result keys of an evaluation and how each is read: ('AP' | 'AR', threshold or None)."""
    if ev.subset in SIZE_BINS:
        return {f'AP_{ev.name}': ('AP', None)}
    if ev.subset in VISIBLE_FRACTION_BINS:
        return {f'{ev.subset}_AP_{ev.measure}': ('AP', None)}
    if ev.subset == NONEMPTY_INVISIBLE:
        return {'occ_AP_IV': ('AP', None), 'occ_AP_IV75': ('AP', .75)}
    prefix = _SUBSET_PREFIX[ev.subset]
    if ev.measure == 'IV':
        return {f'{prefix}AP_IV{int(round(IV_IOU_THR * 100))}': ('AP', None)}
    if ev.subset in ('all', 'occluded'):
        return {
            f'{prefix}AP_{ev.measure}': ('AP', None),
            f'{prefix}AP_{ev.measure}_50': ('AP', .5),
            f'{prefix}AP_{ev.measure}_75': ('AP', .75),
            f'{prefix}AR_{ev.measure}': ('AR', None),
        }
    return {f'{prefix}AP_{ev.measure}': ('AP', None), f'{prefix}AR_{ev.measure}': ('AR', None)}


def _evaluations(things_stuff: bool, occlusion_levels: bool,
                 literature_protocols: bool) -> List[_Evaluation]:
    evs = [_Evaluation('all', m, IOU_THRS) for m in ('AV', 'A', 'V')]
    evs += [
        _Evaluation('occluded', 'AV', IOU_THRS),
        _Evaluation('occluded', 'A', IOU_THRS),
        _Evaluation('occluded', 'V', IOU_THRS, remove_meant_for_ignored=True),
        _Evaluation('occluded', 'IV', np.array([IV_IOU_THR]), remove_meant_for_ignored=True),
    ]
    if things_stuff:
        evs += [_Evaluation(s, 'A', IOU_THRS) for s in ('things', 'stuff')]
    if occlusion_levels:
        evs += [_Evaluation(s, 'A', IOU_THRS) for s in ('none', 'partial', 'heavy')]
    if literature_protocols:
        evs += [_Evaluation(b, m, IOU_THRS) for m in ('A', 'V') for b in VISIBLE_FRACTION_BINS]
        evs += [_Evaluation(s, 'A', IOU_THRS) for s in SIZE_BINS]
        evs.append(_Evaluation(NONEMPTY_INVISIBLE, 'IV', IOU_THRS))
    return evs


def amodal_metric_keys(things_stuff: bool = False, occlusion_levels: bool = True,
                       literature_protocols: bool = True) -> List[str]:
    """The result keys :func:`evaluate_amodal` returns, in order (without ``amodal/``)."""
    return [k for ev in _evaluations(things_stuff, occlusion_levels, literature_protocols)
            for k in _keys_of(ev)] + list(ORDER_KEYS)


def _outside_range(values: np.ndarray, bounds: Tuple[float, float]) -> np.ndarray:
    """COCOeval's (and amodalAPI's) range test ``value < lo or value > hi``: closed ranges, and
    NaN is never outside."""
    low, high = bounds
    return (values < low) | (values > high)


class _DetectionAreas(NamedTuple):
    """What the literature protocols read of each detection (in :class:`_FlatDetections`
    order)."""
    amodal: np.ndarray  # |A| in pixels
    visible_fraction: np.ndarray  # |A AND V| / |A|, NaN for an empty amodal mask
    invisible: np.ndarray  # |IV| in pixels


def _gt_ignore(subset: str, gt: '_FlatGroundTruth') -> np.ndarray:
    if subset == 'all':
        outside = np.zeros_like(gt.crowd)
    elif subset == 'occluded':
        outside = gt.occlude_rate == 0
    elif subset == 'things':
        outside = gt.isstuff
    elif subset == 'stuff':
        outside = ~gt.isstuff
    elif subset in OCCLUSION_LEVELS:  # amodalAPI's test on the stated rate
        outside = _outside_range(gt.occlude_rate, OCCLUSION_LEVELS[subset])
    elif subset in VISIBLE_FRACTION_BINS:  # AISFormer's ground-truth area: 1 - occlude_rate
        outside = _outside_range(1. - gt.occlude_rate, VISIBLE_FRACTION_BINS[subset])
    elif subset in SIZE_BINS:
        outside = _outside_range(gt.area, SIZE_BINS[subset])
    else:  # NONEMPTY_INVISIBLE
        outside = rle_area(gt.invisible) == 0
    return gt.crowd | outside


def _det_outside(subset: str, areas: Optional[_DetectionAreas], num_dets: int) -> np.ndarray:
    """Detections that COCOeval ignores in a subset when they match nothing (area ranges)."""
    if subset in VISIBLE_FRACTION_BINS:
        return _outside_range(areas.visible_fraction, VISIBLE_FRACTION_BINS[subset])
    if subset in SIZE_BINS:
        return _outside_range(areas.amodal, SIZE_BINS[subset])
    return np.zeros(num_dets, dtype=bool)


class _FlatGroundTruth(NamedTuple):
    img_pos: np.ndarray
    cat_pos: np.ndarray
    crowd: np.ndarray
    occlude_rate: np.ndarray
    isstuff: Optional[np.ndarray]
    area: np.ndarray  # the file's ``area`` (else the amodal mask's), for COCO's size bins
    amodal: list
    visible: list
    invisible: list
    ann_id: list
    occluder_ids: list


def _flatten_gt(anns_by_image: Mapping[int, Sequence[dict]], img_ids: Sequence[int],
                cat_pos: Dict[int, int]) -> _FlatGroundTruth:
    """Ground truth of all images in image order; within an image by category, then file order
    (COCOeval's order, also for class-agnostic evaluation)."""
    anns = []
    img_of = []
    for i, img_id in enumerate(img_ids):
        kept = [a for a in anns_by_image[img_id] if a['category_id'] in cat_pos]
        kept.sort(key=lambda a: cat_pos[a['category_id']])  # stable: file order within
        anns += kept
        img_of += [i] * len(kept)
    has_stuff = any('isstuff' in a for a in anns)
    area = np.asarray([a.get('stated_area', a.get('area', np.nan)) for a in anns],
                      dtype=np.float64)
    unknown = np.flatnonzero(np.isnan(area))
    if len(unknown):
        area[unknown] = rle_area([anns[i]['amodal'] for i in unknown])
    return _FlatGroundTruth(
        img_pos=np.asarray(img_of, dtype=np.int64),
        cat_pos=np.asarray([cat_pos[a['category_id']] for a in anns], dtype=np.int64),
        crowd=np.asarray([bool(a.get('iscrowd', 0)) for a in anns], dtype=bool),
        occlude_rate=np.asarray([float(a['occlude_rate']) for a in anns], dtype=np.float64),
        isstuff=np.asarray([bool(a.get('isstuff', 0)) for a in anns], dtype=bool)
        if has_stuff else None,
        area=area,
        amodal=[a['amodal'] for a in anns],
        visible=[a['visible'] for a in anns],
        invisible=[a['invisible'] for a in anns],
        ann_id=[a.get('id') for a in anns],
        occluder_ids=[a.get('occluder_ids') for a in anns])


class _FlatDetections(NamedTuple):
    img_pos: np.ndarray
    cat_pos: np.ndarray
    score: np.ndarray
    rank: np.ndarray
    source: np.ndarray  # index into the AmodalDetections


def _flatten_detections(dets: AmodalDetections, img_pos_of: Dict[int, int],
                        cat_pos_of: Dict[int, int], class_agnostic: bool,
                        max_dets: int) -> _FlatDetections:
    """Detections sorted by group ((image, category), or image when class-agnostic), then by
    descending score with COCOeval's tie-breaking, cut to ``max_dets`` per group."""
    unknown = sorted(set(dets.image_ids.tolist()) - set(img_pos_of))
    if unknown:
        raise ValueError(f'{len(unknown)} image id(s) of the detections are not in the ground '
                         f'truth, e.g. {unknown[:5]}')
    known_cat = np.isin(dets.category_ids, list(cat_pos_of))
    source = np.flatnonzero(known_cat)
    img_pos = np.asarray([img_pos_of[i] for i in dets.image_ids[source].tolist()],
                         dtype=np.int64)
    cat_pos = np.asarray([cat_pos_of[c] for c in dets.category_ids[source].tolist()],
                         dtype=np.int64)
    score = dets.scores[source]
    group = img_pos if class_agnostic else img_pos * max(len(cat_pos_of), 1) + cat_pos
    # COCOeval: dets of a group in results order (class-agnostic: by category first), then a
    # stable sort by descending score.
    tie = cat_pos if class_agnostic else np.zeros_like(cat_pos)
    order = np.lexsort((np.arange(len(source)), tie, -score, group))
    group = group[order]
    is_first = np.ones(len(group), dtype=bool)
    is_first[1:] = group[1:] != group[:-1]
    first_of_group = np.maximum.accumulate(np.where(is_first, np.arange(len(group)), 0))
    rank = np.arange(len(group)) - first_of_group
    kept = rank < max_dets
    keep = order[kept]
    return _FlatDetections(img_pos[keep], cat_pos[keep], score[keep], rank[kept], source[keep])


def _pair_ious(gt: _FlatGroundTruth, det: _FlatDetections, dets: AmodalDetections,
               num_images: int, class_agnostic: bool, min_iou: float,
               with_areas: bool) -> Tuple[List[np.ndarray], Optional[_DetectionAreas]]:
    """IoUs (amodal, visible, amodal-visible, invisible) of every (detection, ground truth)
    pair of the same group that reaches ``min_iou`` in one of them, one pycocotools IoU call
    per image and kind of mask; with ``with_areas``, also the detections' areas (each mask
    converted for pycocotools once)."""
    has_visible, has_invisible = dets.visible is not None, dets.invisible is not None
    det_bounds = np.searchsorted(det.img_pos, np.arange(num_images + 1))
    gt_bounds = np.searchsorted(gt.img_pos, np.arange(num_images + 1))
    areas = np.zeros((3, len(det.score))) if with_areas else None  # |A|, |A AND V|, |IV|
    pair_det, pair_gt, ious = [], [], []
    for i in np.flatnonzero(np.diff(det_bounds) > 0):
        d0, d1, g0, g1 = det_bounds[i], det_bounds[i + 1], gt_bounds[i], gt_bounds[i + 1]
        src = det.source[d0:d1].tolist()
        amodal = bytes_rles([dets.amodal[j] for j in src])
        visible = bytes_rles([dets.visible[j] for j in src]) if has_visible else amodal
        invisible = bytes_rles([dets.invisible[j] for j in src]) if has_invisible else None
        if with_areas:
            areas[0, d0:d1] = rle_area(amodal)
            areas[1, d0:d1] = rle_intersection_areas(amodal, visible) if has_visible \
                else areas[0, d0:d1]
            if has_invisible:
                areas[2, d0:d1] = rle_area(invisible)
        if g0 == g1:
            continue
        crowd = gt.crowd[g0:g1]
        iou_a = rle_iou(amodal, gt.amodal[g0:g1], crowd)
        iou_v = rle_iou(visible, gt.visible[g0:g1], crowd)
        iou_iv = rle_iou(invisible, gt.invisible[g0:g1], crowd) if has_invisible \
            else np.zeros_like(iou_a)
        reach = np.maximum(np.maximum(iou_a, iou_v), iou_iv) >= min_iou
        if not class_agnostic:
            reach &= det.cat_pos[d0:d1, None] == gt.cat_pos[None, g0:g1]
        di, gi = np.nonzero(reach)
        pair_det.append(di + d0)
        pair_gt.append(gi + g0)
        ious.append(np.stack([iou_a[di, gi], iou_v[di, gi], iou_iv[di, gi]]))
    det_areas = None
    if with_areas:
        with np.errstate(invalid='ignore', divide='ignore'):
            det_areas = _DetectionAreas(areas[0], areas[1] / areas[0], areas[2])
    if not pair_det:
        empty = [np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((len(_IOU_KINDS), 0))]
        return empty, det_areas
    a, v, iv = np.concatenate(ious, axis=1)
    pair_ious = np.stack([a, v, np.minimum(a, v), iv])  # in the order of _IOU_KINDS
    return [np.concatenate(pair_det), np.concatenate(pair_gt), pair_ious], det_areas


class _Settings(NamedTuple):
    """Per evaluation: ignored ground truth ``(S, G)``, detections taking part in the matching
    ``(S, D)`` and detections counted as false positives when unmatched ``(S, D)``; the rows."""
    gt_ignore: np.ndarray
    det_valid: np.ndarray
    det_counted: np.ndarray
    rows: MatchRows


def _settings(evs: List[_Evaluation], gt: _FlatGroundTruth, num_dets: int,
              pair_det: np.ndarray, pair_gt: np.ndarray, pair_ious: np.ndarray,
              det_areas: Optional[_DetectionAreas]) -> _Settings:
    """Ignored ground truth and taking-part detections of each evaluation; its rows."""
    ignore = {ev.subset: _gt_ignore(ev.subset, gt) for ev in evs}
    gt_ignore = np.stack([ignore[ev.subset] for ev in evs]).reshape(len(evs), len(gt.crowd))
    det_valid = np.ones((len(evs), num_dets), dtype=bool)
    det_counted = np.ones((len(evs), num_dets), dtype=bool)
    meant_for_ignored = pair_det[(pair_ious[_IOU_KINDS.index('A')] >= REMOVE_IOU_THR)
                                 & ignore['occluded'][pair_gt]]
    for e, ev in enumerate(evs):
        if ev.remove_meant_for_ignored:
            det_valid[e, meant_for_ignored] = False
        if ev.subset == NONEMPTY_INVISIBLE:
            det_valid[e] = det_areas.invisible > 0
        det_counted[e] = det_valid[e] & ~_det_outside(ev.subset, det_areas, num_dets)
    rows = MatchRows(
        iou_index=np.concatenate([[_IOU_KINDS.index(ev.measure)] * len(ev.iou_thrs)
                                  for ev in evs]),
        iou_thr=np.concatenate([ev.iou_thrs for ev in evs]),
        setting=np.concatenate([[e] * len(ev.iou_thrs) for e, ev in enumerate(evs)]))
    return _Settings(gt_ignore, det_valid, det_counted, rows)


def _accumulate(state: np.ndarray, det_counted: np.ndarray, rows: MatchRows,
                gt_ignore: np.ndarray, gt_cat: np.ndarray, det: _FlatDetections,
                det_cat: np.ndarray, num_cats: int) -> List[np.ndarray]:
    """Precision ``(R, 101, K)`` and recall ``(R, K)`` of every row; an unmatched detection is
    a false positive where ``det_counted``."""
    num_pos = np.stack([np.bincount(gt_cat[~ignored], minlength=num_cats)
                        for ignored in gt_ignore])[rows.setting]
    # COCOeval accumulates by descending score, ties by image, then by rank in the image.
    order = np.lexsort((det.rank, det.img_pos, -det.score, det_cat))
    bounds = np.searchsorted(det_cat[order], np.arange(num_cats + 1))
    dets_by_cat = [order[bounds[k]:bounds[k + 1]] for k in range(num_cats)]
    return accumulate_precision_recall(state, det_counted, rows.setting, dets_by_cat, num_pos,
                                       REC_THRS)


def _summarize(result: AmodalEvalResult, evs: List[_Evaluation], precision: np.ndarray,
               recall: np.ndarray, iv_evaluable: bool, classwise: bool) -> None:
    """Fill the result's arrays, keys and per-class values from the rows' precision / recall
    (COCOeval.summarize: the mean over entries > -1)."""
    first = 0
    for ev in evs:
        rows_e = slice(first, first + len(ev.iou_thrs))
        first += len(ev.iou_thrs)
        result.precision[ev.name], result.recall[ev.name] = precision[rows_e], recall[rows_e]
        evaluable = ev.measure != 'IV' or iv_evaluable
        for key, (kind, thr) in _keys_of(ev).items():
            values = result.precision[ev.name] if kind == 'AP' else result.recall[ev.name]
            if thr is not None:
                values = values[np.flatnonzero(ev.iou_thrs == thr)]
            result.metrics[key] = _mean_valid(values) if evaluable else -1.
        if classwise and ev.subset in ('all', 'occluded'):
            key = next(iter(_keys_of(ev)))  # the AP over all thresholds
            for k, name in enumerate(result.cat_names):
                result.per_class.setdefault(name, {})[key] = \
                    _mean_valid(result.precision[ev.name][:, :, k]) if evaluable else -1.


def evaluate_amodal(anns_by_image: Mapping[int, Sequence[dict]],
                    categories: Sequence[dict],
                    detections: AmodalDetections,
                    cat_ids: Optional[Sequence[int]] = None,
                    class_agnostic: bool = False,
                    max_dets: int = 100,
                    things_stuff: Optional[bool] = None,
                    occlusion_levels: bool = True,
                    literature_protocols: bool = True,
                    classwise: bool = False,
                    logger: Union[logging.Logger, str, None] = 'current') -> AmodalEvalResult:
    """Evaluate amodal instance segmentation as in the paper (module docstring).

    Args:
        anns_by_image (Mapping[int, Sequence[dict]]): ``{image_id: [annotation, ...]}`` for
            every evaluated image (an empty list for an image without objects), annotations as
            :func:`mmorcnn.datasets.load_amodal_coco` parses them: ``category_id``, ``iscrowd``,
            ``occlude_rate``, ``amodal`` / ``visible`` / ``invisible`` compressed RLEs, optional
            ``isstuff``, ``id`` and ``occluder_ids`` (for ``order_acc`` / ``order_F1``) and
            ``stated_area`` / ``area`` (COCO's size bins; the amodal mask area when neither).
        categories (Sequence[dict]): Category records (``id``, ``name``).
        detections (AmodalDetections): The detections of the evaluated images.
        cat_ids (Sequence[int], optional): Categories to evaluate; ground truth and detections
            of others are left out. Defaults to None, all of ``categories``.
        class_agnostic (bool): Match detections to ground truth of any category (COCOeval's
            ``useCats=0``). Defaults to False.
        max_dets (int): Detections kept per image and category (per image when class-agnostic),
            the highest-scoring. Defaults to 100.
        things_stuff (bool, optional): Report ``things_*`` / ``stuff_*`` (COCOA, ``isstuff``).
            Defaults to None: when the ground truth has ``isstuff``.
        occlusion_levels (bool): Report ``none_*``, ``partial_*`` and ``heavy_*``. Defaults to
            True.
        literature_protocols (bool): Report the keys of the later literature's protocols
            (module docstring): ``occ{15,25,40}_AP_{A,V}``, ``AP_A_{s,m,l}``, ``occ_AP_IV``,
            ``occ_AP_IV75``. Defaults to True.
        classwise (bool): Fill ``per_class``. Defaults to False.
        logger (logging.Logger | str, optional): Where warnings go. Defaults to 'current'.

    Returns:
        AmodalEvalResult: The metrics, per-class values and COCO precision / recall arrays.
    """
    img_ids = sorted(anns_by_image)
    log_detection_coverage(detections, img_ids, logger)
    names = {c['id']: c.get('name', str(c['id'])) for c in categories}
    cat_ids = sorted(names if cat_ids is None else cat_ids)
    cat_pos_of = {c: k for k, c in enumerate(cat_ids)}
    gt = _flatten_gt(anns_by_image, img_ids, cat_pos_of)
    if things_stuff is None:
        things_stuff = gt.isstuff is not None
    elif things_stuff and gt.isstuff is None:
        raise ValueError('things_stuff=True needs the ground truth field "isstuff"')
    det = _flatten_detections(detections, {i: p for p, i in enumerate(img_ids)}, cat_pos_of,
                              class_agnostic, max_dets)
    min_iou = min(IOU_THRS.min(), IV_IOU_THR, REMOVE_IOU_THR)
    (pair_det, pair_gt, pair_ious), det_areas = _pair_ious(
        gt, det, detections, len(img_ids), class_agnostic, min_iou, literature_protocols)

    evs = _evaluations(things_stuff, occlusion_levels, literature_protocols)
    gt_ignore, det_valid, det_counted, rows = _settings(evs, gt, len(det.score), pair_det,
                                                        pair_gt, pair_ious, det_areas)
    all_a = next(e for e, ev in enumerate(evs) if (ev.subset, ev.measure) == ('all', 'A'))
    order_row = int(np.flatnonzero((rows.setting == all_a)
                                   & np.isclose(rows.iou_thr, ORDER_IOU_THR))[0])
    state, order_match = match_detections(pair_det, pair_gt, pair_ious, det.rank, gt.crowd,
                                          gt_ignore, det_valid, rows, [order_row])
    num_cats = 1 if class_agnostic else len(cat_ids)
    gt_cat = np.zeros_like(gt.cat_pos) if class_agnostic else gt.cat_pos
    det_cat = np.zeros_like(det.cat_pos) if class_agnostic else det.cat_pos
    precision, recall = _accumulate(state, det_counted, rows, gt_ignore, gt_cat, det, det_cat,
                                    num_cats)

    result = AmodalEvalResult(
        metrics={},
        cat_ids=[-1] if class_agnostic else list(cat_ids),
        cat_names=['(class-agnostic)'] if class_agnostic else
        [names.get(c, str(c)) for c in cat_ids])
    _summarize(result, evs, precision, recall, _has_invisible(detections),
               classwise and not class_agnostic)
    result.metrics.update(_occlusion_order(gt, det, detections, img_ids, state[order_row],
                                           order_match[0], logger))
    _warn_unevaluable(evs, gt_ignore, detections, logger)
    return result


def detection_coverage(detections: AmodalDetections, img_ids: Sequence[int]) -> int:
    """How many of the images ``img_ids`` have at least one detection."""
    return len(set(np.unique(detections.image_ids).tolist()) & set(img_ids))


def log_detection_coverage(detections: AmodalDetections, img_ids: Sequence[int],
                           logger='current') -> None:
    """Log ``'150 detections on 3 of 10 images'``; a warning when more than
    :data:`NO_DETECTION_WARN_SHARE` of the images have no detection at all (a results file that
    covers part of the dataset, or a model that finds nothing: either lowers every AP, and
    nothing else in the tables shows it)."""
    covered, total = detection_coverage(detections, img_ids), len(img_ids)
    message = f'{len(detections)} detections on {covered} of {total} images'
    empty = total - covered
    if empty:
        message += f'; {empty} images have no detection at all'
    if total and empty > NO_DETECTION_WARN_SHARE * total:
        print_log(message + ' (most of them: results of only part of the dataset, or a model '
                  'that finds nothing? every image without detections counts its objects as '
                  'missed)', logger=logger, level=logging.WARNING)
    else:
        print_log(message, logger=logger, level=logging.INFO)


def _occlusion_order(gt: _FlatGroundTruth, det: _FlatDetections, detections: AmodalDetections,
                     img_ids: List[int], state: np.ndarray, matched_gt: np.ndarray,
                     logger) -> Dict[str, float]:
    """``order_acc`` and ``order_F1`` of the AP_A matching at IoU 0.5 (one row's matches)."""
    det_of_gt = np.full(len(gt.crowd), -1, dtype=np.int64)
    is_match = state == MATCHED
    det_of_gt[matched_gt[is_match]] = det.source[is_match]
    return evaluate_occlusion_order(gt.img_pos, gt.ann_id, gt.occluder_ids, gt.crowd, img_ids,
                                    det_of_gt, detections, logger)


def _has_invisible(detections: AmodalDetections) -> bool:
    """Whether AP_IV is evaluable: the model predicts invisible masks (or found nothing)."""
    return detections.invisible is not None or len(detections) == 0


def _warn_unevaluable(evs: List[_Evaluation], gt_ignore: np.ndarray,
                      detections: AmodalDetections, logger) -> None:
    empty = [ev.subset for ev, ignored in zip(evs, gt_ignore)
             if ev.measure == 'A' and ignored.all()]
    if 'all' in empty:
        print_log('No ground-truth object to evaluate: every measure is reported as -1.',
                  logger=logger, level=logging.WARNING)
        return
    if 'occluded' in empty:
        print_log('No occluded ground-truth object (occlude_rate > 0): the occluded measures '
                  '(amodal/occ_*) are reported as -1.', logger=logger, level=logging.WARNING)
    others = [s for s in empty if s not in ('all', 'occluded')]
    if others:
        print_log(f'No ground-truth object in the subset(s) {others}: their measures are -1.',
                  logger=logger, level=logging.WARNING)
    if not _has_invisible(detections):
        keys = [k for ev in evs if ev.measure == 'IV' for k in _keys_of(ev)]
        print_log(f'The detections have no invisible masks: {", ".join(keys)} not evaluable, '
                  'reported as -1.', logger=logger, level=logging.WARNING)
    if detections.visible is None and len(detections):
        print_log('The detections have no visible masks: their amodal masks stand in for them '
                  '(paper section 3.3).', logger=logger, level=logging.INFO)
