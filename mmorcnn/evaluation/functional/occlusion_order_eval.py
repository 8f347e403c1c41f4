"""Occlusion-order measures: does a model say correctly which object hides which?

Both keys compare ground-truth occlusion relations with the relations of the detections, where a
relation "j hides i" is the one rule of :mod:`mmorcnn.structures.occlusion_order` (the invisible
part of i lies on the visible part of j, above its noise thresholds). Ground-truth relations are
the canonical ``occluder_ids`` of the annotation file (written by that rule on the ground-truth
masks); the detections' relations are computed by the rule from their visible and invisible
masks (a results file holds all that is needed).

Objects are paired with detections by the AP_A matching at IoU 0.5 (COCO's greedy matching on the
amodal masks, by category unless class-agnostic, within ``max_dets``); crowd regions and ground
truth left unmatched take no part. With ``M`` the matched ground-truth objects,

* ``G``: ground-truth edges ``(i, j)``, ``j`` hides ``i``, with both ``i`` and ``j`` in ``M``;
* ``P``: edges ``(i, j)`` of ``M`` whose detections are related by the rule, ``det(j)`` hides
  ``det(i)``; an edge depends only on its two detections, so it does not matter which other
  detections the image has;
* ``order_acc = |G & P| / |G|``: the share of ground-truth relations between matched objects
  that the detections give in the right direction (a pair the detections do not relate at all
  counts as wrong);
* ``order_F1 = 2 |G & P| / (|G| + |P|)``: F1 of the detections' edges, which also counts the
  relations they claim between matched objects that the ground truth does not have.

Counts are summed over the whole dataset. Both keys are -1 when the ground truth has no relation
(no ``occluder_ids``, or only empty ones) or the detections have no visible and invisible masks;
they are 0 when no related pair of objects is matched.
"""
import logging
from typing import Dict, List, NamedTuple, Optional, Sequence, Union

import numpy as np
from mmengine.logging import print_log

from mmorcnn.structures.occlusion_order import rle_occluders
from .amodal_results import AmodalDetections

#: The result keys, without the ``amodal/`` prefix.
ORDER_KEYS = ('order_acc', 'order_F1')
#: Objects are paired with detections by the AP_A matching at this IoU.
ORDER_IOU_THR = 0.5


class OrderCounts(NamedTuple):
    """Edge counts of the occlusion-order measures (module docstring)."""
    gt_relations: int  # ground-truth edges between evaluated (non-crowd) objects
    gt_edges: int  # |G|
    pred_edges: int  # |P|
    correct: int  # |G & P|


def ground_truth_edges(img_pos: np.ndarray, ann_ids: Sequence[int],
                       occluder_ids: Sequence[Optional[Sequence[int]]], crowd: np.ndarray,
                       image_ids: Sequence[int],
                       logger: Union[logging.Logger, str, None] = 'current') -> np.ndarray:
    """``(E, 2)`` ground-truth edges ``(i, j)``, ``j`` hides ``i``, as indices of the objects.

    Args:
        img_pos (np.ndarray): ``(G,)`` image of each object (objects of an image contiguous).
        ann_ids (Sequence[int]): ``(G,)`` annotation ids.
        occluder_ids (Sequence): ``(G,)`` each object's ``occluder_ids`` (None: none given).
        crowd (np.ndarray): ``(G,)`` bool, crowd regions (left out of every relation).
        image_ids (Sequence[int]): Image id of each image position, for messages.
        logger: Where the count of ids that name no evaluated object of the same image goes
            (objects of categories left out of the evaluation, or wrong ids).
    """
    edges: List[tuple] = []
    unresolved, example = 0, None
    bounds = np.flatnonzero(np.diff(np.concatenate([[-1], img_pos, [-2]]))) if len(img_pos) \
        else np.zeros(1, np.int64)
    for g0, g1 in zip(bounds[:-1], bounds[1:]):
        index_of = {int(ann_ids[g]): g for g in range(g0, g1) if not crowd[g]}
        for i in range(g0, g1):
            if crowd[i] or not occluder_ids[i]:
                continue
            for occluder in occluder_ids[i]:
                j = index_of.get(int(occluder))
                if j is None or j == i:
                    unresolved += 1
                    example = example or (image_ids[img_pos[i]], ann_ids[i], occluder)
                    continue
                edges.append((i, j))
    if unresolved:
        print_log(f'{unresolved} occluder id(s) name no other evaluated, non-crowd object of '
                  f'the same image and take no part in order_acc / order_F1 (e.g. image '
                  f'{example[0]}, annotation {example[1]}: occluder {example[2]})',
                  logger=logger, level=logging.WARNING)
    return np.asarray(sorted(set(edges)), dtype=np.int64).reshape(-1, 2)


def detection_occluders(visible: Sequence[dict], invisible: Sequence[dict]) -> np.ndarray:
    """``(D, D)`` bool edges of the rule between detections of one image, ``[a, b]``: ``b``
    hides ``a``, from their visible and invisible masks (compressed RLEs)."""
    return rle_occluders(visible, invisible)


def count_order(gt_edges: np.ndarray, img_pos: np.ndarray, det_of_gt: np.ndarray,
                detections: AmodalDetections) -> OrderCounts:
    """The counts of the module docstring.

    Args:
        gt_edges (np.ndarray): ``(E, 2)`` output of :func:`ground_truth_edges`.
        img_pos (np.ndarray): ``(G,)`` image of each object.
        det_of_gt (np.ndarray): ``(G,)`` index into ``detections`` of the detection matched to
            each object, -1 where none is.
        detections (AmodalDetections): With visible and invisible masks.
    """
    both = (det_of_gt[gt_edges[:, 0]] >= 0) & (det_of_gt[gt_edges[:, 1]] >= 0)
    matched_edges = {(int(i), int(j)) for i, j in gt_edges[both]}
    correct = num_pred = 0
    matched = np.flatnonzero(det_of_gt >= 0)  # in image order
    bounds = np.searchsorted(img_pos[matched], np.unique(img_pos[matched]).tolist() + [np.inf])
    for m0, m1 in zip(bounds[:-1], bounds[1:]):
        objects = matched[m0:m1]
        dets = det_of_gt[objects].tolist()
        pred = detection_occluders([detections.visible[d] for d in dets],
                                   [detections.invisible[d] for d in dets])
        occluded, occluder = np.nonzero(pred)
        num_pred += len(occluded)
        correct += sum((int(objects[a]), int(objects[b])) in matched_edges
                       for a, b in zip(occluded, occluder))
    return OrderCounts(len(gt_edges), len(matched_edges), num_pred, correct)


def order_metrics(counts: Optional[OrderCounts]) -> Dict[str, float]:
    """``order_acc`` and ``order_F1`` of the counts; -1 for None or no ground-truth relation."""
    if counts is None or counts.gt_relations == 0:
        return {key: -1. for key in ORDER_KEYS}
    acc = counts.correct / counts.gt_edges if counts.gt_edges else 0.
    total = counts.gt_edges + counts.pred_edges
    return dict(order_acc=float(acc), order_F1=float(2 * counts.correct / total) if total else 0.)


def evaluate_occlusion_order(img_pos: np.ndarray, ann_ids: Sequence[int],
                             occluder_ids: Sequence[Optional[Sequence[int]]], crowd: np.ndarray,
                             image_ids: Sequence[int], det_of_gt: np.ndarray,
                             detections: AmodalDetections,
                             logger: Union[logging.Logger, str, None] = 'current'
                             ) -> Dict[str, float]:
    """``order_acc`` and ``order_F1`` (module docstring) of matched detections.

    Args:
        img_pos, ann_ids, occluder_ids, crowd, image_ids: The ground-truth objects, as for
            :func:`ground_truth_edges`.
        det_of_gt (np.ndarray): ``(G,)`` index into ``detections`` matched to each object by the
            AP_A matching at IoU 0.5, -1 where none is.
        detections (AmodalDetections): The detections.
        logger: Where warnings go.
    """
    edges = ground_truth_edges(img_pos, ann_ids, occluder_ids, crowd, image_ids, logger)
    if not len(edges):
        print_log('The ground truth has no occlusion relation (occluder_ids): order_acc and '
                  'order_F1 are reported as -1.', logger=logger, level=logging.WARNING)
        return order_metrics(None)
    if detections.visible is None or detections.invisible is None:
        if len(detections):
            print_log('The detections have no visible and invisible masks, so no occlusion '
                      'order: order_acc and order_F1 are reported as -1.', logger=logger,
                      level=logging.WARNING)
            return order_metrics(None)
    return order_metrics(count_order(edges, img_pos, det_of_gt, detections))
