"""Amodal detections: the in-memory form the evaluation reads, and the results file.

The results file (``AmodalCocoMetric(format_only=True)`` writes it,
``tools/analysis_tools/eval_amodal.py`` reads it) is a COCO results file, a JSON list with one
object per detection, extended by the two extra masks with the names of the canonical annotation
format (DESIGN.md section 3)::

    [{"image_id": 7,                        # id of the image in the annotation file
      "category_id": 3,                     # category id of the annotation file
      "score": 0.93,
      "bbox": [x, y, w, h],                 # the predicted (amodal) box, optional
      "segmentation": {"size": [h, w], "counts": "..."},    # amodal mask, compressed RLE
      "visible_mask": {"size": [h, w], "counts": "..."},    # optional: absent when the model
                                                            # predicts no visible masks
      "invisible_mask": {"size": [h, w], "counts": "..."}}, # optional: absent when the model
     ...]                                                   # predicts no invisible masks

Because ``segmentation`` is the amodal mask, pycocotools' ``COCO.loadRes`` reads the file as it
is and ``COCOeval(..., 'segm')`` on it gives AP_A. Either all detections carry ``visible_mask``
(``invisible_mask``) or none does: without visible masks the amodal masks stand in for them (paper
section 3.3); without invisible masks AP_IV cannot be evaluated.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

#: Keys of the optional masks of a results-file entry, in the canonical format's names.
VISIBLE_KEY, INVISIBLE_KEY = 'visible_mask', 'invisible_mask'


def _json_rle(rle: dict) -> dict:
    counts = rle['counts']
    if isinstance(counts, bytes):
        counts = counts.decode('ascii')
    return {'size': [int(rle['size'][0]), int(rle['size'][1])], 'counts': counts}


@dataclass
class AmodalDetections:
    """Detections of a whole dataset, column by column.

    Attributes:
        image_ids (np.ndarray): ``(N,)`` image id of each detection.
        category_ids (np.ndarray): ``(N,)`` category id of each detection.
        scores (np.ndarray): ``(N,)`` float64 confidence.
        amodal (list[dict]): ``N`` compressed RLEs of the amodal masks.
        visible (list[dict], optional): ``N`` RLEs of the visible masks; None when the model
            predicts none (the amodal masks then stand in for them).
        invisible (list[dict], optional): ``N`` RLEs of the invisible masks; None when the model
            predicts none (AP_IV is then not evaluable).
        bboxes (np.ndarray, optional): ``(N, 4)`` predicted boxes ``[x, y, w, h]``.
    """
    image_ids: np.ndarray
    category_ids: np.ndarray
    scores: np.ndarray
    amodal: List[dict]
    visible: Optional[List[dict]] = None
    invisible: Optional[List[dict]] = None
    bboxes: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        self.image_ids = np.asarray(self.image_ids, dtype=np.int64).reshape(-1)
        self.category_ids = np.asarray(self.category_ids, dtype=np.int64).reshape(-1)
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        n = len(self.scores)
        if self.bboxes is not None:
            self.bboxes = np.asarray(self.bboxes, dtype=np.float64).reshape(-1, 4)
        for name in ('image_ids', 'category_ids', 'amodal', 'visible', 'invisible', 'bboxes'):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f'{name} has {len(value)} entries for {n} detections')

    def __len__(self) -> int:
        return len(self.scores)

    @classmethod
    def concat(cls, parts: Sequence['AmodalDetections']) -> 'AmodalDetections':
        """Join the detections of several images (or shards) in the given order.

        A part with no detection says nothing about which masks the model predicts; among the
        others, visible (invisible) masks are kept only if every part has them.
        """
        nonempty = [p for p in parts if len(p)]

        def masks(name):
            if not nonempty or any(getattr(p, name) is None for p in nonempty):
                return None
            return [m for p in nonempty for m in getattr(p, name)]

        bboxes = None
        if nonempty and all(p.bboxes is not None for p in nonempty):
            bboxes = np.concatenate([p.bboxes for p in nonempty])
        return cls(
            image_ids=np.concatenate([p.image_ids for p in parts] + [np.zeros(0, np.int64)]),
            category_ids=np.concatenate([p.category_ids for p in parts] +
                                        [np.zeros(0, np.int64)]),
            scores=np.concatenate([p.scores for p in parts] + [np.zeros(0)]),
            amodal=[m for p in parts for m in p.amodal],
            visible=masks('visible'),
            invisible=masks('invisible'),
            bboxes=bboxes)

    @classmethod
    def from_json(cls, results: Sequence[dict]) -> 'AmodalDetections':
        """Read the entries of a results file (see the module docstring)."""
        for key in (VISIBLE_KEY, INVISIBLE_KEY):
            present = sum(key in r for r in results)
            if 0 < present < len(results):
                raise ValueError(f'{present} of {len(results)} detections have "{key}": either '
                                 'all or none must have it')
        has_bbox = len(results) > 0 and all('bbox' in r for r in results)
        return cls(
            image_ids=[r['image_id'] for r in results],
            category_ids=[r['category_id'] for r in results],
            scores=[r['score'] for r in results],
            amodal=[r['segmentation'] for r in results],
            visible=[r[VISIBLE_KEY] for r in results]
            if results and VISIBLE_KEY in results[0] else None,
            invisible=[r[INVISIBLE_KEY] for r in results]
            if results and INVISIBLE_KEY in results[0] else None,
            bboxes=[r['bbox'] for r in results] if has_bbox else None)

    def to_json(self) -> List[dict]:
        """Entries of a results file (see the module docstring), JSON-serialisable."""
        out = []
        for i in range(len(self)):
            entry = dict(
                image_id=int(self.image_ids[i]),
                category_id=int(self.category_ids[i]),
                score=float(self.scores[i]))
            if self.bboxes is not None:
                entry['bbox'] = [float(v) for v in self.bboxes[i]]
            entry['segmentation'] = _json_rle(self.amodal[i])
            if self.visible is not None:
                entry[VISIBLE_KEY] = _json_rle(self.visible[i])
            if self.invisible is not None:
                entry[INVISIBLE_KEY] = _json_rle(self.invisible[i])
            out.append(entry)
        return out
