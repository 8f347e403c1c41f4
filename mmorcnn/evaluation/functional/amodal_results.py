"""Amodal detections: the in-memory form the evaluation reads, and the results file.

The results file (``AmodalCocoMetric(format_only=True)`` writes it,
``tools/analysis_tools/eval_amodal.py`` reads it) is a COCO results file, a JSON list with one
object per detection, extended by the two extra masks with the names of the canonical annotation
format (docs/annotation_format.md)::

    [{"image_id": 7,                        # id of the image in the annotation file
      "category_id": 3,                     # category id of the annotation file
      "score": 0.93,
      "bbox": [x, y, w, h],                 # the predicted (amodal) box, optional
      "segmentation": {"size": [h, w], "counts": "..."},    # amodal mask, compressed RLE
      "visible_mask": {"size": [h, w], "counts": "..."},    # optional: absent when the model
                                                            # predicts no visible masks
      "invisible_mask": {"size": [h, w], "counts": "..."}}, # optional: absent when the model
     ...]                                                   # predicts no invisible masks

Masks are RLEs (compressed, or uncompressed as pycocotools also reads them) of their image's
size. Reading a results file (:func:`load_amodal_results`, :meth:`AmodalDetections.from_json`)
validates every entry before pycocotools sees it (docs/annotation_format.md): a list of objects, the
required keys, integer ids of images and categories the annotation file declares, a finite
score, valid RLEs (:func:`~mmorcnn.structures.mask_utils.check_rle`) of the image's size, the
optional masks on every entry or on none. A problem is an :class:`AmodalResultsError` naming the
file, the entry index, its image id and what is wrong. There is no ``on_error='skip'`` for
detections: leaving a bad one out would change the AP without a trace.

Because ``segmentation`` is the amodal mask, pycocotools' ``COCO.loadRes`` reads the file as it
is and ``COCOeval(..., 'segm')`` on it gives AP_A. Either all detections carry ``visible_mask``
(``invisible_mask``) or none does: without visible masks the amodal masks stand in for them (paper
section 3.3); without invisible masks AP_IV cannot be evaluated.
"""
import math
from dataclasses import dataclass
from typing import Any, Collection, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from mmorcnn.datasets.amodal_format import MAX_ID, read_json
from mmorcnn.structures.errors import AmodalResultsError, FormatError
from mmorcnn.structures.mask_kinds import MASK_KIND
from mmorcnn.structures.mask_utils import check_rle, is_integer, is_number, to_json_rle

#: Keys of the optional masks of a results-file entry, in the canonical format's names.
VISIBLE_KEY, INVISIBLE_KEY = MASK_KIND['visible'].key, MASK_KIND['invisible'].key
#: Keys every results-file entry has.
REQUIRED_KEYS = ('image_id', 'category_id', 'score', 'segmentation')


def _check_entry(entry: Any, image_sizes: Optional[Mapping[int, Tuple[int, int]]],
                 cat_ids: Optional[Collection[int]], mask_keys: Sequence[str]) -> dict:
    """One results entry with its masks as compressed JSON-safe RLEs; FormatError if bad."""
    if not isinstance(entry, dict):
        raise FormatError(f'the entry is a {type(entry).__name__}, not an object')
    missing = [key for key in REQUIRED_KEYS if key not in entry]
    if missing:
        raise FormatError(f'no {missing}')
    image_id, category_id, score = entry['image_id'], entry['category_id'], entry['score']
    for key in ('image_id', 'category_id'):
        if not is_integer(entry[key]) or not -MAX_ID <= entry[key] <= MAX_ID:
            raise FormatError(f'{key} {entry[key]!r} is not an integer (of at most 64 bits)')
    if image_sizes is not None and image_id not in image_sizes:
        raise FormatError(f'image_id {image_id} names no image of the annotation file')
    if cat_ids is not None and category_id not in cat_ids:
        raise FormatError(f'category_id {category_id} is not a category of the annotation '
                          f'file ({sorted(cat_ids)})')
    if not is_number(score) or not math.isfinite(score):
        raise FormatError(f'score {score!r} is not a finite number')
    checked = dict(entry)
    for key in ('segmentation',) + tuple(mask_keys):
        segm = entry[key]
        if not isinstance(segm, dict):
            raise FormatError(f'{key} is a {type(segm).__name__}, not an RLE object '
                              "{'size', 'counts'}")
        size = segm.get('size')
        if image_sizes is not None:
            height, width = image_sizes[image_id]
        elif (isinstance(size, (list, tuple)) and len(size) == 2
              and all(is_integer(v) and v > 0 for v in size)):
            height, width = int(size[0]), int(size[1])
        else:
            raise FormatError(f'{key}: RLE size {size!r} is not two positive integers')
        try:
            checked[key] = check_rle(segm, height, width)
        except FormatError as e:
            raise FormatError(f'{key}: {e}') from None
    bbox = entry.get('bbox')
    if bbox is not None and (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
                             or not all(is_number(v) and math.isfinite(v) for v in bbox)):
        raise FormatError(f'bbox {bbox!r} is not 4 finite numbers [x, y, w, h]')
    return checked


def check_results(results: Any,
                  results_file: str = '<results>',
                  image_sizes: Optional[Mapping[int, Tuple[int, int]]] = None,
                  cat_ids: Optional[Collection[int]] = None) -> List[dict]:
    """Validate the entries of a results file (module docstring).

    Args:
        results: The file's JSON value.
        results_file (str): Its name, for errors. Defaults to ``'<results>'``.
        image_sizes (Mapping[int, tuple], optional): ``{image id: (height, width)}`` of the
            annotation file. Defaults to None: image ids are not checked and masks must match
            their own ``size``.
        cat_ids (Collection[int], optional): The annotation file's category ids. Defaults to
            None: not checked.

    Returns:
        list[dict]: The entries, their masks compressed JSON-safe RLEs.

    Raises:
        AmodalResultsError: naming the file, the entry and what is wrong.
    """
    if not isinstance(results, list):
        raise AmodalResultsError(results_file, None, None, 'a results file is a JSON list of '
                                 f'detections, not a {type(results).__name__}')
    mask_keys = [key for key in (VISIBLE_KEY, INVISIBLE_KEY)
                 if results and isinstance(results[0], dict) and key in results[0]]
    checked = []
    for index, entry in enumerate(results):
        image_id = entry.get('image_id') if isinstance(entry, dict) else None
        if not is_integer(image_id) or not -MAX_ID <= image_id <= MAX_ID:
            image_id = None
        try:
            for key in (VISIBLE_KEY, INVISIBLE_KEY):
                if isinstance(entry, dict) and (key in entry) != (key in mask_keys):
                    raise FormatError(
                        (f'has "{key}" but entry 0 has not' if key in entry else
                         f'lacks "{key}", which entry 0 has') +
                        ': either every detection has it or none has')
            checked.append(_check_entry(entry, image_sizes, cat_ids, mask_keys))
        except FormatError as e:
            raise AmodalResultsError(results_file, index, image_id, str(e)) from None
    return checked


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
    def from_json(cls,
                  results: Any,
                  results_file: str = '<results>',
                  image_sizes: Optional[Mapping[int, Tuple[int, int]]] = None,
                  cat_ids: Optional[Collection[int]] = None) -> 'AmodalDetections':
        """Validate and read the entries of a results file (see the module docstring and
        :func:`check_results` for the arguments)."""
        results = check_results(results, results_file, image_sizes, cat_ids)
        has_bbox = len(results) > 0 and all(r.get('bbox') is not None for r in results)
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
            entry['segmentation'] = to_json_rle(self.amodal[i])
            if self.visible is not None:
                entry[VISIBLE_KEY] = to_json_rle(self.visible[i])
            if self.invisible is not None:
                entry[INVISIBLE_KEY] = to_json_rle(self.invisible[i])
            out.append(entry)
        return out


def load_amodal_results(results_file: str, gt, backend_args: Optional[dict] = None
                        ) -> AmodalDetections:
    """Read and validate a results file against the annotation file it was made for.

    Args:
        results_file (str): The results file (module docstring).
        gt (AmodalCoco): The loaded annotation file
            (:func:`~mmorcnn.datasets.amodal_format.load_amodal_coco`): image ids and sizes,
            category ids.
        backend_args (dict, optional): mmengine file backend arguments. Defaults to None.

    Raises:
        AmodalResultsError: a file that is not JSON, and every problem of
            :func:`check_results`.
    """
    try:
        results = read_json(results_file, backend_args)
    except FormatError as e:
        raise AmodalResultsError(results_file, None, None, str(e)) from None
    image_sizes = {img['id']: (int(img['height']), int(img['width'])) for img in gt.images}
    return AmodalDetections.from_json(results, results_file, image_sizes,
                                      {cat['id'] for cat in gt.categories})
