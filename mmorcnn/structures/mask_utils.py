"""The one place where annotation masks are turned into RLEs / binary arrays and compared.

Every part of mmorcnn (dataset, converters, metric, visualisation) goes through these helpers so
that polygons, uncompressed RLE and compressed RLE are decoded the same way everywhere.
All RLEs returned here are compressed COCO RLEs whose ``counts`` is a ``str`` (JSON-safe).
"""
from typing import List, Sequence, Union

import numpy as np
import pycocotools.mask as maskUtils

Segmentation = Union[list, dict]


class MaskFormatError(ValueError):
    """A segmentation that cannot be decoded; the message says why."""


def _to_json_rle(rle: dict) -> dict:
    counts = rle['counts']
    if isinstance(counts, bytes):
        counts = counts.decode('ascii')
    return {'size': [int(rle['size'][0]), int(rle['size'][1])], 'counts': counts}


def segm_to_rle(segm: Segmentation, height: int, width: int) -> dict:
    """Convert a COCO segmentation (polygons, uncompressed or compressed RLE) to a compressed RLE.

    Polygons may leave the image: pycocotools clips them to ``height x width``.

    Args:
        segm: ``[[x1, y1, x2, y2, ...], ...]`` polygons, ``{'size', 'counts': [int]}`` or
            ``{'size', 'counts': str}``.
        height (int): Image height the mask must have.
        width (int): Image width the mask must have.

    Raises:
        MaskFormatError: empty segmentation, a polygon with fewer than 3 points, an RLE whose
            size is not ``[height, width]``, or an unknown layout.
    """
    if isinstance(segm, list):
        if len(segm) == 0:
            raise MaskFormatError('empty segmentation (no polygon)')
        polys = []
        for i, poly in enumerate(segm):
            if not isinstance(poly, (list, tuple)) or not all(
                    isinstance(v, (int, float)) for v in poly):
                raise MaskFormatError(f'polygon {i} is not a flat list of numbers')
            if len(poly) < 6 or len(poly) % 2:
                raise MaskFormatError(
                    f'polygon {i} has {len(poly) / 2:g} points; at least 3 (x, y) '
                    'points are needed')
            polys.append([float(v) for v in poly])
        rle = maskUtils.merge(maskUtils.frPyObjects(polys, height, width))
        return _to_json_rle(rle)
    if isinstance(segm, dict):
        if 'size' not in segm or 'counts' not in segm:
            raise MaskFormatError("RLE needs the keys 'size' and 'counts'")
        size = [int(s) for s in segm['size']]
        if size != [height, width]:
            raise MaskFormatError(
                f'RLE size {size} does not match the image size [{height}, {width}]')
        counts = segm['counts']
        if isinstance(counts, list):  # uncompressed RLE
            return _to_json_rle(maskUtils.frPyObjects(segm, height, width))
        if isinstance(counts, (str, bytes)):
            return _to_json_rle({'size': size, 'counts': counts})
        raise MaskFormatError(f'RLE counts of type {type(counts).__name__}')
    raise MaskFormatError(f'segmentation of type {type(segm).__name__} is neither polygons '
                          'nor RLE')


def rle_to_mask(rle: dict) -> np.ndarray:
    """Decode a compressed RLE into a ``(H, W)`` uint8 mask."""
    r = dict(rle)
    if isinstance(r['counts'], str):
        r['counts'] = r['counts'].encode('ascii')
    return maskUtils.decode(r)


def segm_to_mask(segm: Segmentation, height: int, width: int) -> np.ndarray:
    """Decode any COCO segmentation into a ``(H, W)`` uint8 mask."""
    return rle_to_mask(segm_to_rle(segm, height, width))


def mask_to_rle(mask: np.ndarray) -> dict:
    """Encode a ``(H, W)`` binary mask as a JSON-safe compressed RLE."""
    return _to_json_rle(maskUtils.encode(np.asfortranarray(mask.astype(np.uint8))))


def masks_to_rles(masks: np.ndarray) -> List[dict]:
    """Encode ``(N, H, W)`` binary masks as JSON-safe compressed RLEs."""
    if len(masks) == 0:
        return []
    encoded = maskUtils.encode(np.asfortranarray(np.asarray(masks, dtype=np.uint8).transpose(1, 2, 0)))
    return [_to_json_rle(r) for r in encoded]


def _bytes_rles(rles: Sequence[dict]) -> List[dict]:
    out = []
    for r in rles:
        c = r['counts']
        out.append({'size': r['size'], 'counts': c.encode('ascii') if isinstance(c, str) else c})
    return out


def rle_area(rles: Sequence[dict]) -> np.ndarray:
    """Pixel areas of RLEs as a float64 array."""
    if len(rles) == 0:
        return np.zeros(0)
    return maskUtils.area(_bytes_rles(rles)).astype(np.float64)


def rle_iou(dt: Sequence[dict], gt: Sequence[dict],
            iscrowd: Union[Sequence[int], None] = None) -> np.ndarray:
    """IoU matrix ``(len(dt), len(gt))`` of RLE masks, exactly as pycocotools computes it.

    For a crowd GT the "IoU" is intersection over the detection area, as in COCOeval.
    """
    if len(dt) == 0 or len(gt) == 0:
        return np.zeros((len(dt), len(gt)))
    crowd = [0] * len(gt) if iscrowd is None else [int(c) for c in iscrowd]
    return np.asarray(maskUtils.iou(_bytes_rles(dt), _bytes_rles(gt), crowd), dtype=np.float64)


def _counts_from_string(counts: str) -> List[int]:
    """Run lengths of a compressed COCO RLE string (pycocotools' ``rleFrString``)."""
    runs: List[int] = []
    pos = 0
    while pos < len(counts):
        value, shift, more = 0, 0, True
        while more:
            c = ord(counts[pos]) - 48
            value |= (c & 0x1f) << shift
            more = bool(c & 0x20)
            pos += 1
            shift += 5
            if not more and c & 0x10:
                value |= -1 << shift
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


def rle_complement(rle: dict) -> dict:
    """``NOT rle``, computed on the run lengths without decoding the mask."""
    counts = rle['counts']
    runs = _counts_from_string(counts.decode('ascii') if isinstance(counts, bytes) else counts)
    # runs alternate 0s and 1s starting with 0s: shifting by one run swaps them
    runs = runs[1:] if runs and runs[0] == 0 else [0] + runs
    height, width = int(rle['size'][0]), int(rle['size'][1])
    return _to_json_rle(maskUtils.frPyObjects({'size': [height, width], 'counts': runs},
                                              height, width))


def rle_intersect(a: dict, b: dict) -> dict:
    """``a AND b`` for two RLEs of the same size."""
    return _to_json_rle(maskUtils.merge(_bytes_rles([a, b]), intersect=True))


def rle_and_not(a: dict, b: dict) -> dict:
    """``a AND NOT b`` for two RLEs of the same size."""
    return rle_intersect(a, rle_complement(b))


def rle_to_bbox(rle: dict) -> List[float]:
    """COCO ``[x, y, w, h]`` box of an RLE."""
    return [float(v) for v in maskUtils.toBbox(_bytes_rles([rle])[0])]
