"""Mask prediction of large images in bounded memory: pasted a few instances at a time and kept as
compressed RLEs.

An RoI head pastes the masks of every detection of an image at full resolution at once, one
``(N, H, W)`` stack per kind: for a 6000 x 6000 image with 50 detections and three kinds that is
5.4 GB of bool masks, before they are encoded or drawn. :func:`rle_mask_prediction` makes the
RoI head's ``predict_mask`` paste ``chunk`` instances at a time (the head's own
``predict_mask``, so the masks are the same) and encode each chunk to compressed RLEs right away,
so memory grows with the image (one chunk of full-size masks), not with image x instances x kinds.
The results then hold their mask fields as lists of RLEs, as mmdet's encoded results do; the
occlusion order (:func:`~mmorcnn.structures.occlusion_graph`), ``AmodalCocoMetric``, the
inferencer's JSON and :class:`~mmorcnn.visualization.AmodalDetLocalVisualizer` read those.
"""
from contextlib import contextmanager
from typing import Iterator, List

import torch
from mmengine.structures import InstanceData

from mmorcnn.structures.mask_kinds import INSTANCE_MASK_FIELDS, MASK_KINDS
from mmorcnn.structures.mask_utils import masks_to_rles

#: Upper bound of the kinds of masks an RoI head pastes per detection (amodal, visible,
#: invisible), used to size the chunks.
MAX_KINDS = len(MASK_KINDS)


def chunk_size(height: int, width: int, max_mask_pixels: int, kinds: int = MAX_KINDS) -> int:
    """Detections pasted at once so that ``detections x kinds x height x width`` stays within
    ``max_mask_pixels`` (at least one)."""
    return max(1, int(max_mask_pixels) // max(1, kinds * int(height) * int(width)))


def needs_chunks(batch_img_metas: List[dict], max_per_img: int, max_mask_pixels: int) -> bool:
    """Whether pasting up to ``max_per_img`` detections of some image of the batch at once would
    exceed ``max_mask_pixels``."""
    return any(max_per_img * MAX_KINDS * int(m['ori_shape'][0]) * int(m['ori_shape'][1]) >
               max_mask_pixels for m in batch_img_metas)


def _encode(results: InstanceData) -> dict:
    """The mask fields of ``results`` as lists of compressed RLEs."""
    return {field: masks_to_rles(results.get(field).cpu().numpy())
            for field in INSTANCE_MASK_FIELDS if field in results}


@contextmanager
def rle_mask_prediction(roi_head, max_mask_pixels: int) -> Iterator[None]:
    """Within the context, ``roi_head.predict_mask`` pastes a chunk of detections at a time
    (:func:`chunk_size` of each image's original size) and returns the masks as RLE lists,
    when some image of the batch has more detections than fit into one chunk; otherwise it is
    the head's own, with mask tensors.

    Args:
        roi_head: An RoI head with ``predict_mask(x, batch_img_metas, results_list, rescale)``
            (mmdet's StandardRoIHead and its subclasses).
        max_mask_pixels (int): Mask pixels pasted at once, over all kinds.
    """
    predict_mask = roi_head.predict_mask

    def chunked(x, batch_img_metas, results_list, rescale: bool = False):
        sizes = [chunk_size(*m['ori_shape'][:2], max_mask_pixels) for m in batch_img_metas]
        if all(len(r) <= c for r, c in zip(results_list, sizes)):  # they fit: one pass
            return predict_mask(x, batch_img_metas, results_list, rescale)
        parts = [[] for _ in results_list]
        rounds = max([-(-len(r) // c) for r, c in zip(results_list, sizes)] + [0])
        for k in range(rounds):
            chunk = [r[k * c:(k + 1) * c] for r, c in zip(results_list, sizes)]
            chunk = predict_mask(x, batch_img_metas, chunk, rescale)
            for img, res in enumerate(chunk):
                if len(res):
                    parts[img].append((res.bboxes, _encode(res)))
        out = []
        for img, res in enumerate(results_list):
            if not parts[img]:  # no detection: empty masks of the kinds the head pastes
                empty = predict_mask(x, batch_img_metas, [r[:0] for r in results_list],
                                     rescale)[img]
                res = empty
                for field in INSTANCE_MASK_FIELDS:
                    if field in res:
                        res[field] = []
                out.append(res)
                continue
            res.bboxes = torch.cat([bboxes for bboxes, _ in parts[img]])
            for field in parts[img][0][1]:
                res[field] = [rle for _, rles in parts[img] for rle in rles[field]]
            out.append(res)
        return out

    roi_head.predict_mask = chunked
    try:
        yield
    finally:
        del roi_head.predict_mask
