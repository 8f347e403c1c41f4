"""COCO matching and accumulation, vectorised over images, categories and evaluation settings.

pycocotools' ``COCOeval.evaluateImg`` matches detections to ground truth in nested Python loops
(per image, category, area range, IoU threshold, detection and ground truth) and ``accumulate``
loops again per category and threshold. Both are re-implemented here so that they give the same
numbers bit for bit, while the work runs in numpy over all images at once:

* :func:`match_detections` is the greedy matching. A detection's match depends only on the
  detections of its own (image, category) group with a higher score, so the loop runs over the
  rank of a detection in its group (at most ``max_dets`` steps) and handles the detections of
  that rank of *every* group, every IoU threshold and every evaluation setting (a "row") at once.
  Only (detection, ground truth) pairs that can match at some threshold are ever looked at.
* :func:`accumulate_precision_recall` turns the matches into COCO's 101-point interpolated
  precision and the recall, for every row and category.

A row is one IoU threshold of one evaluation setting: which IoU matrix it reads, which ground
truth it ignores and which detections take part. COCOeval's rules hold in every row: detections
are visited by descending score; a detection takes the unmatched (or crowd) ground truth with the
highest IoU >= the threshold, preferring any not-ignored ground truth over an ignored one (ties
go to the later ground truth in file order); a detection matched to an ignored ground truth is
neither a true nor a false positive; a crowd ground truth can absorb any number of detections.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

#: Match state of a detection in a row.
UNMATCHED, MATCHED, MATCHED_IGNORED = 0, 1, 2


class MatchRows(NamedTuple):
    """What each row of a matching run evaluates.

    Attributes:
        iou_index (np.ndarray): ``(R,)`` row of ``pair_ious`` (which IoU matrix) each row reads.
        iou_thr (np.ndarray): ``(R,)`` IoU threshold of each row.
        setting (np.ndarray): ``(R,)`` row of ``gt_ignore`` / ``det_valid`` each row uses.
    """
    iou_index: np.ndarray
    iou_thr: np.ndarray
    setting: np.ndarray


def match_detections(pair_det: np.ndarray, pair_gt: np.ndarray, pair_ious: np.ndarray,
                     det_rank: np.ndarray, gt_crowd: np.ndarray, gt_ignore: np.ndarray,
                     det_valid: np.ndarray, rows: MatchRows,
                     matched_gt_rows: Optional[Sequence[int]] = None
                     ) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """Greedy COCO matching of all detections, for every row at once.

    Detections and ground truths are numbered globally. A ground truth's number must follow the
    file order within its (image, category) group, because COCOeval breaks IoU ties in favour of
    the later ground truth.

    Args:
        pair_det (np.ndarray): ``(P,)`` detection of each candidate pair. A pair joins a
            detection and a ground truth of the same group; pairs whose IoU is below every
            threshold may be left out.
        pair_gt (np.ndarray): ``(P,)`` ground truth of each pair.
        pair_ious (np.ndarray): ``(M, P)`` IoUs of each pair, one row per kind of IoU.
        det_rank (np.ndarray): ``(D,)`` rank of each detection in its group by descending
            score (0 = highest), ties broken as COCOeval breaks them.
        gt_crowd (np.ndarray): ``(G,)`` bool, crowd ground truth.
        gt_ignore (np.ndarray): ``(S, G)`` bool, ground truth ignored in each setting (crowd
            ground truth must be ignored too, as in COCOeval).
        det_valid (np.ndarray): ``(S, D)`` bool, detections that take part in each setting; the
            others are removed before matching.
        rows (MatchRows): The ``R`` rows.
        matched_gt_rows (Sequence[int], optional): Rows whose matched ground truth is also
            returned. Defaults to None.

    Returns:
        np.ndarray: ``(R, D)`` int8 match state of every detection in every row:
        :data:`UNMATCHED`, :data:`MATCHED` or :data:`MATCHED_IGNORED`; with
        ``matched_gt_rows``, also the ``(len(matched_gt_rows), D)`` int64 ground truth each
        detection is matched to in those rows (-1: none).
    """
    num_rows, num_dets = len(rows.iou_thr), len(det_rank)
    state = np.zeros((num_rows, num_dets), dtype=np.int8)
    recorded = None
    if matched_gt_rows is not None:
        recorded = np.full((len(matched_gt_rows), num_dets), -1, dtype=np.int64)
        record_pos = np.full(num_rows, -1, dtype=np.int64)
        record_pos[np.asarray(matched_gt_rows, dtype=np.int64)] = np.arange(len(matched_gt_rows))
    if len(pair_det) == 0:
        return state if recorded is None else (state, recorded)
    # COCOeval compares against min(t, 1 - 1e-10), see ``evaluateImg``.
    thr = np.minimum(np.asarray(rows.iou_thr, dtype=np.float64), 1 - 1e-10)[:, None]
    setting = np.asarray(rows.setting)
    gt_matched = np.zeros((num_rows, gt_ignore.shape[1]), dtype=bool)

    order = np.lexsort((pair_gt, pair_det, det_rank[pair_det]))
    pair_det, pair_gt, pair_ious = pair_det[order], pair_gt[order], pair_ious[:, order]
    pair_rank = det_rank[pair_det]
    bounds = np.searchsorted(pair_rank, np.arange(pair_rank[-1] + 2))
    for start, end in zip(bounds[:-1], bounds[1:]):
        if start == end:
            continue
        dets, gts = pair_det[start:end], pair_gt[start:end]
        is_first = np.empty(len(dets), dtype=bool)
        is_first[0], is_first[1:] = True, dets[1:] != dets[:-1]
        seg_starts = np.flatnonzero(is_first)  # one segment per detection
        seg_of_pair = np.cumsum(is_first) - 1

        ious = pair_ious[:, start:end][rows.iou_index]
        ignored = gt_ignore[setting[:, None], gts]
        free = ~gt_matched[:, gts] | gt_crowd[gts]
        ok = (ious >= thr) & free & det_valid[setting[:, None], dets]
        # A detection takes a not-ignored ground truth whenever one qualifies.
        has_regular = np.logical_or.reduceat(ok & ~ignored, seg_starts, axis=1)
        candidate = ok & (ignored != has_regular[:, seg_of_pair])
        key = np.where(candidate, ious, -1.)
        best_iou = np.maximum.reduceat(key, seg_starts, axis=1)
        is_best = candidate & (key == best_iou[:, seg_of_pair])
        position = np.where(is_best, np.arange(end - start), -1)
        best = np.maximum.reduceat(position, seg_starts, axis=1)  # the last of equal IoUs

        row, seg = np.nonzero(best >= 0)
        matched_gt = gts[best[row, seg]]
        gt_matched[row, matched_gt] = True
        state[row, dets[seg_starts[seg]]] = np.where(
            gt_ignore[setting[row], matched_gt], MATCHED_IGNORED, MATCHED)
        if recorded is not None:
            keep = record_pos[row] >= 0
            recorded[record_pos[row[keep]], dets[seg_starts[seg[keep]]]] = matched_gt[keep]
    return state if recorded is None else (state, recorded)


def accumulate_precision_recall(state: np.ndarray, det_valid: np.ndarray, setting: np.ndarray,
                                dets_by_category: Sequence[np.ndarray], num_pos: np.ndarray,
                                rec_thrs: np.ndarray,
                                max_elements: int = 1 << 22) -> List[np.ndarray]:
    """COCO's interpolated precision and recall from the match states, like
    ``COCOeval.accumulate`` for one area range and one ``maxDets``.

    Args:
        state (np.ndarray): ``(R, D)`` output of :func:`match_detections`.
        det_valid (np.ndarray): ``(S, D)`` detections that take part in each setting.
        setting (np.ndarray): ``(R,)`` setting of each row.
        dets_by_category (Sequence[np.ndarray]): For each of the ``K`` categories, its
            detections in COCOeval's accumulation order (descending score; ties by image, then by
            rank in the image).
        num_pos (np.ndarray): ``(R, K)`` number of not-ignored ground truths; 0 leaves the
            category out of the row (-1 in the outputs).
        rec_thrs (np.ndarray): Recall thresholds, COCO's 0:0.01:1.
        max_elements (int): Rows are processed in chunks of at most this many row x detection
            elements to bound memory. Defaults to 4M.

    Returns:
        list[np.ndarray]: ``precision`` ``(R, len(rec_thrs), K)`` and ``recall`` ``(R, K)``, -1
        where a category has no ground truth in a row.
    """
    num_rows, num_cats = num_pos.shape
    precision = -np.ones((num_rows, len(rec_thrs), num_cats))
    recall = -np.ones((num_rows, num_cats))
    for k, dets in enumerate(dets_by_category):
        rows_k = np.flatnonzero(num_pos[:, k] > 0)
        num = len(dets)
        if num == 0:
            precision[rows_k, :, k] = 0.
            recall[rows_k, k] = 0.
            continue
        chunk = max(1, max_elements // num)
        for c in range(0, len(rows_k), chunk):
            rows_c = rows_k[c:c + chunk]
            st = state[np.ix_(rows_c, dets)]
            tp_count = np.cumsum(st == MATCHED, axis=1)
            tp_sum = tp_count.astype(np.float64)
            fp_sum = np.cumsum((st == UNMATCHED) & det_valid[setting[rows_c][:, None], dets],
                               axis=1).astype(np.float64)
            npos = num_pos[rows_c, k]
            rc = tp_sum / npos[:, None]
            pr = tp_sum / (fp_sum + tp_sum + np.spacing(1))
            pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]  # precision envelope
            recall[rows_c, k] = rc[:, -1]
            inds = _first_reaching(tp_count, npos, rec_thrs)
            q = np.take_along_axis(pr, np.minimum(inds, num - 1), axis=1)
            q[inds >= num] = 0.
            precision[rows_c, :, k] = q
    return [precision, recall]


def _first_reaching(tp_count: np.ndarray, npos: np.ndarray, rec_thrs: np.ndarray) -> np.ndarray:
    """``(r, T)``: for each row ``i`` and threshold ``t``, the first index where the recall
    ``tp_count[i] / npos[i]`` reaches ``t``, i.e. COCOeval's ``searchsorted(rc, t, 'left')``,
    for all rows in one search.

    ``tp / n < t`` holds exactly for the counts ``tp`` below ``m_t``, the number of
    ``m in 0..n`` with ``m / n < t`` (division by ``n`` keeps the order), so the search runs
    on the integer counts, rows placed one after the other.
    """
    need = np.empty((len(npos), len(rec_thrs)), dtype=np.int64)
    for n in np.unique(npos):
        need[npos == n] = np.searchsorted(np.arange(n + 1) / n, rec_thrs, side='left')
    span = int(npos.max()) + 2  # counts are <= npos and needs <= npos + 1
    offset = (np.arange(len(npos)) * span)[:, None]
    found = np.searchsorted((tp_count + offset).ravel(), (need + offset).ravel(), side='left')
    return found.reshape(need.shape) - (np.arange(len(npos)) * tp_count.shape[1])[:, None]
