"""The one place where annotation masks are validated, turned into RLEs / binary arrays and
compared.

Every part of mmorcnn (dataset, converters, metric, results files, inferencer, visualisation)
goes through these helpers, so that polygons, uncompressed RLE and compressed RLE are checked and
decoded the same way everywhere. Everything read from a file is checked here *before* a
pycocotools C routine sees it (docs/annotation_format.md): pycocotools segfaults or runs out of
memory on
NaN or huge polygon coordinates, and hangs or reads out of bounds on RLE counts that do not
add up to ``height x width``. The checks:

* polygons: a list of parts, each a flat list of finite numbers with an even count and at least
  3 ``(x, y)`` points, every point within one image size of the image (``-width <= x <=
  2 * width``, likewise ``y``);
* RLE: ``size`` two positive integers equal to the image's ``[height, width]``; uncompressed
  ``counts`` non-negative integers summing to ``height * width``; compressed ``counts`` an ASCII
  string that decodes (pycocotools' ``rleFrString``) into non-negative runs summing to
  ``height * width``;
* image sizes: positive integers with ``height * width`` below 2**32 (pycocotools stores run
  lengths as 32-bit unsigned integers).

A violation is a :class:`MaskFormatError` that says what is wrong; the caller adds where (file,
image, annotation or results entry). All RLEs returned here are compressed COCO RLEs whose
``counts`` is a ``str`` (JSON-safe).
"""
import math
import numbers
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import pycocotools.mask as maskUtils

from .errors import FormatError, MaskFormatError, SoftMaskError  # noqa: F401  (the family)

Segmentation = Union[list, dict]

#: pycocotools keeps run lengths (and so ``height * width``) in 32-bit unsigned integers.
MAX_MASK_PIXELS = 2**32 - 1


def is_number(value) -> bool:
    """Whether ``value`` is a real number (``bool`` is not)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_integer(value) -> bool:
    """Whether ``value`` is an integer (``bool`` is not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_image_size(height, width) -> Tuple[int, int]:
    """``(height, width)`` as ints, after checking they are positive integers whose product
    pycocotools can hold.

    Raises:
        FormatError: a size that is no positive integer, or more than :data:`MAX_MASK_PIXELS`
            pixels.
    """
    for name, value in (('height', height), ('width', width)):
        if not is_integer(value) or value <= 0:
            raise FormatError(f'{name} {value!r} is not a positive integer')
    if int(height) * int(width) > MAX_MASK_PIXELS:
        raise FormatError(f'{height}x{width} pixels are more than pycocotools can encode '
                          f'({MAX_MASK_PIXELS})')
    return int(height), int(width)


def to_json_rle(rle: dict) -> dict:
    """A compressed RLE with ``counts`` as ``str`` and ``size`` as two ints (JSON-safe).

    The input is a compressed RLE known to be valid (from pycocotools or :func:`check_rle`).
    """
    counts = rle['counts']
    if isinstance(counts, bytes):
        counts = counts.decode('ascii')
    return {'size': [int(rle['size'][0]), int(rle['size'][1])], 'counts': counts}


def rle_runs(counts: Union[str, bytes]) -> np.ndarray:
    """Run lengths (int64) of a compressed COCO RLE string, decoded as pycocotools'
    ``rleFrString`` does but without its unchecked arithmetic.

    Raises:
        MaskFormatError: a character outside pycocotools' alphabet (``'0'`` to ``'o'``), a
            string that ends inside a number, or a number longer than 32 bits.
    """
    if isinstance(counts, str):
        try:
            counts = counts.encode('ascii')
        except UnicodeEncodeError:
            raise MaskFormatError('compressed RLE counts contain non-ASCII characters') from None
    c = np.frombuffer(counts, dtype=np.uint8).astype(np.int64) - 48
    if len(c) == 0:
        return np.zeros(0, np.int64)
    bad = np.flatnonzero((c < 0) | (c > 63))
    if len(bad):
        raise MaskFormatError(f'compressed RLE counts: character {chr(c[bad[0]] + 48)!r} at '
                              f'position {bad[0]} is not an RLE character')
    more = (c & 0x20) != 0
    if more[-1]:
        raise MaskFormatError('compressed RLE counts end in the middle of a number '
                              '(truncated string)')
    ends = np.flatnonzero(~more)
    starts = np.concatenate([[0], ends[:-1] + 1])
    lengths = ends - starts + 1
    if lengths.max() > 7:  # 7 characters hold 35 bits, more than any 32-bit run needs
        raise MaskFormatError('compressed RLE counts hold a number longer than 32 bits')
    shift = 5 * (np.arange(len(c)) - np.repeat(starts, lengths))
    values = np.add.reduceat((c & 0x1f) << shift, starts)
    negative = (c[ends] & 0x10) != 0
    values = np.where(negative, values - (np.int64(1) << (5 * lengths)), values)
    # rleFrString: from the 4th run on, each run is stored relative to the run two before
    runs = values.copy()
    if len(runs) > 3:
        runs[3::2] = np.cumsum(values[3::2]) + values[1]
    if len(runs) > 4:
        runs[4::2] = np.cumsum(values[4::2]) + values[2]
    return runs


def _check_runs(runs: np.ndarray, height: int, width: int, what: str) -> None:
    if len(runs) and runs.min() < 0:
        raise MaskFormatError(f'{what} has a negative run length {int(runs.min())}')
    total = int(runs.sum()) if len(runs) else 0
    if total != height * width:
        raise MaskFormatError(f'{what} covers {total} pixels, not height x width = '
                              f'{height} x {width} = {height * width}')


def check_rle(segm: dict, height: int, width: int) -> dict:
    """Validate an RLE of a ``height x width`` image; return it compressed and JSON-safe.

    Raises:
        MaskFormatError: no ``size`` / ``counts``, a size that is not ``[height, width]``,
            uncompressed counts that are no non-negative integers summing to
            ``height * width``, compressed counts that do not decode to such runs.
    """
    if 'size' not in segm or 'counts' not in segm:
        raise MaskFormatError(f"RLE needs the keys 'size' and 'counts', it has {sorted(segm)}")
    size = segm['size']
    if (not isinstance(size, (list, tuple)) or len(size) != 2
            or not all(is_integer(s) and s > 0 for s in size)):
        raise MaskFormatError(f'RLE size {size!r} is not two positive integers [height, width]')
    if [int(size[0]), int(size[1])] != [height, width]:
        raise MaskFormatError(f'RLE size {list(size)} does not match the image size '
                              f'[{height}, {width}]')
    counts = segm['counts']
    if isinstance(counts, list):  # uncompressed RLE
        if not all(is_integer(v) for v in counts):
            bad = next(v for v in counts if not is_integer(v))
            raise MaskFormatError(f'uncompressed RLE counts hold {bad!r}, not only integers')
        runs = [int(v) for v in counts]
        if runs and (min(runs) < 0 or max(runs) > MAX_MASK_PIXELS):
            raise MaskFormatError('uncompressed RLE counts hold a run length outside '
                                  f'[0, {MAX_MASK_PIXELS}]')
        _check_runs(np.asarray(runs, dtype=np.int64), height, width, 'uncompressed RLE')
        return to_json_rle(maskUtils.frPyObjects({'size': [height, width], 'counts': runs},
                                                 height, width))
    if isinstance(counts, (str, bytes)):
        _check_runs(rle_runs(counts), height, width, 'compressed RLE')
        return to_json_rle({'size': [height, width], 'counts': counts})
    raise MaskFormatError(f'RLE counts of type {type(counts).__name__}, neither a list '
                          '(uncompressed) nor a string (compressed)')


def polygon_parts(segm: list, height: int, width: int) -> Tuple[List[List[float]], List[str]]:
    """The valid parts of a polygon segmentation and what was wrong with the degenerate ones.

    A part with fewer than 3 points (or an odd number of coordinates) is degenerate: it encloses
    no area, and pycocotools would read a part of 4 numbers as a box.

    Returns:
        tuple: The parts with at least 3 points (lists of floats) and one message per
        degenerate part.

    Raises:
        MaskFormatError: a part that is no flat list of numbers, a coordinate that is not
            finite or lies more than one image size outside the image.
    """
    parts, degenerate = [], []
    for i, poly in enumerate(segm):
        if not isinstance(poly, (list, tuple)) or not all(is_number(v) for v in poly):
            raise MaskFormatError(f'polygon {i} is not a flat list of numbers')
        try:
            xy = np.asarray(poly, dtype=np.float64)
        except OverflowError:
            raise MaskFormatError(f'polygon {i} has a coordinate too large for a float') \
                from None
        if not np.isfinite(xy).all():
            raise MaskFormatError(f'polygon {i} has a coordinate that is not finite (NaN or '
                                  'infinite)')
        if len(xy) < 6 or len(xy) % 2:
            degenerate.append(f'polygon {i} has {len(xy) / 2:g} points; at least 3 (x, y) '
                              'points are needed')
            continue
        x, y = xy[0::2], xy[1::2]
        if ((x < -width) | (x > 2 * width) | (y < -height) | (y > 2 * height)).any():
            raise MaskFormatError(
                f'polygon {i} has a point more than one image size outside the '
                f'{height}x{width} image (x in [{x.min():g}, {x.max():g}], y in '
                f'[{y.min():g}, {y.max():g}])')
        parts.append(xy.tolist())
    return parts, degenerate


def segm_to_rle(segm: Segmentation, height: int, width: int,
                dropped: Optional[List[str]] = None) -> dict:
    """Validate a COCO segmentation (polygons, uncompressed or compressed RLE) and convert it
    to a compressed RLE of a ``height x width`` image.

    Polygons may leave the image (by less than one image size): pycocotools clips them.

    Args:
        segm: ``[[x1, y1, x2, y2, ...], ...]`` polygons, ``{'size', 'counts': [int]}`` or
            ``{'size', 'counts': str}``.
        height (int): Image height the mask must have.
        width (int): Image width the mask must have.
        dropped (list[str], optional): Where to note polygon parts with fewer than 3 points,
            which are then left out of the mask (the segmentation stays valid while another
            part remains). Defaults to None: such a part is an error.

    Raises:
        MaskFormatError: empty segmentation, a degenerate polygon part (unless ``dropped``
            collects them) or no part left, a malformed polygon or RLE (see the module
            docstring), or an unknown layout.
    """
    if isinstance(segm, list):
        if len(segm) == 0:
            raise MaskFormatError('empty segmentation (no polygon)')
        parts, degenerate = polygon_parts(segm, height, width)
        if degenerate and (dropped is None or not parts):
            raise MaskFormatError(degenerate[0] if dropped is None else
                                  f'no polygon with at least 3 points ({degenerate[0]})')
        if dropped is not None:
            dropped.extend(degenerate)
        return to_json_rle(maskUtils.merge(maskUtils.frPyObjects(parts, height, width)))
    if isinstance(segm, dict):
        return check_rle(segm, height, width)
    raise MaskFormatError(f'segmentation of type {type(segm).__name__} is neither polygons '
                          'nor RLE')


def empty_rle(height: int, width: int) -> dict:
    """The RLE of an empty ``height x width`` mask."""
    return to_json_rle(maskUtils.frPyObjects({'size': [height, width], 'counts': [height * width]},
                                             height, width))


def bbox_to_rle(bbox, height: int, width: int) -> dict:
    """RLE of a COCO ``[x, y, w, h]`` box clipped to the image.

    Raises:
        MaskFormatError: a box that is not 4 finite numbers with positive width and height, or
            that lies outside the image.
    """
    if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
            or not all(is_number(v) and math.isfinite(v) for v in bbox)):
        raise MaskFormatError(f'bbox {bbox!r} is not 4 finite numbers [x, y, w, h]')
    x, y, w, h = (float(v) for v in bbox)
    x0, y0 = max(x, 0.), max(y, 0.)
    x1, y1 = min(x + w, float(width)), min(y + h, float(height))
    if w <= 0 or h <= 0 or x1 <= x0 or y1 <= y0:
        raise MaskFormatError(f'bbox {list(bbox)} covers no pixel of the {height}x{width} image')
    box = np.array([[x0, y0, x1 - x0, y1 - y0]], dtype=np.float64)
    return to_json_rle(maskUtils.frPyObjects(box, height, width)[0])


def binary_masks(masks, thr: Optional[float] = None, what: str = 'masks') -> np.ndarray:
    """``(N, H, W)`` bool masks from predicted masks, binary or soft.

    Binary masks (bool, or numbers that are all 0 or 1) are returned as they are. Soft masks
    are what mmdet's mask heads return when ``test_cfg.rcnn.mask_thr_binary < 0``: uint8 grey
    levels 0-255 (probability x 255), or floats in [0, 1]. They are binarised at ``thr`` (a
    probability, as ``mask_thr_binary``) or refused: RLE encodes binary masks only, and
    encoding grey levels would make every level change a run.

    Args:
        masks (np.ndarray | torch.Tensor): ``(N, H, W)`` masks.
        thr (float, optional): Threshold for soft masks. Defaults to None: refuse them.
        what (str): Name of the masks in the error message. Defaults to 'masks'.

    Raises:
        SoftMaskError: soft masks and no ``thr``, or values outside the soft ranges.
    """
    if hasattr(masks, 'detach'):  # torch.Tensor
        masks = masks.detach().cpu().numpy()
    masks = np.asarray(masks)
    if masks.dtype == bool:
        return masks
    if masks.size == 0 or np.isin(masks, (0, 1)).all():
        return masks.astype(bool)
    if np.issubdtype(masks.dtype, np.integer):
        scale = 255.
    elif np.issubdtype(masks.dtype, np.floating) and np.isfinite(masks).all():
        scale = 1.
    else:
        raise SoftMaskError(f'{what} of dtype {masks.dtype} are neither binary nor soft masks')
    if masks.min() < 0 or masks.max() > scale:
        raise SoftMaskError(f'{what} hold values in [{masks.min()}, {masks.max()}]; soft masks '
                            f"are {'uint8 0-255' if scale == 255 else 'floats in [0, 1]'}")
    if thr is None:
        raise SoftMaskError(
            f'{what} are soft (grey levels, the mask head ran with mask_thr_binary < 0), but '
            'RLE encodes binary masks only: set model.test_cfg.rcnn.mask_thr_binary to a '
            'threshold in [0, 1] (mmdet uses 0.5), or give a threshold to binarise them')
    return masks >= thr * scale


#: The value of each run of a COCO RLE: runs alternate 0s and 1s, starting with 0s.
_RUN_VALUES = np.array([0, 1], np.uint8)


def rle_to_mask(rle: dict) -> np.ndarray:
    """Decode a compressed RLE into a ``(H, W)`` uint8 mask (column-major, as pycocotools'
    ``decode`` returns it).

    The runs (:func:`rle_runs`) are expanded with ``np.repeat``: the same pixels as pycocotools'
    ``decode``, whose result array goes through an ``__array__`` that numpy 2 deprecates (a
    DeprecationWarning on every call) and is copied twice on the way.

    Raises:
        MaskFormatError: counts that do not decode (see :func:`rle_runs`) or do not cover
            ``height x width`` pixels.
    """
    height, width = int(rle['size'][0]), int(rle['size'][1])
    runs = rle_runs(rle['counts'])
    _check_runs(runs, height, width, 'compressed RLE')
    return np.repeat(np.resize(_RUN_VALUES, len(runs)), runs).reshape(width, height).T


def rles_to_masks(rles: Sequence[dict], height: int, width: int) -> np.ndarray:
    """Decode compressed RLEs of one ``height x width`` image into an ``(N, H, W)`` uint8 stack.

    Each RLE is decoded once, straight into its slot: an RLE runs column-major, and
    OpenCV transposes that into the row-major stack much faster than numpy's strided copy.
    """
    masks = np.empty((len(rles), height, width), np.uint8)
    for i, rle in enumerate(rles):
        mask = rle_to_mask(rle)
        if mask.dtype == np.uint8 and mask.shape == (height, width) and mask.flags.f_contiguous:
            cv2.transpose(mask.T, masks[i])
        else:
            masks[i] = mask
    return masks


def segm_to_mask(segm: Segmentation, height: int, width: int) -> np.ndarray:
    """Decode any COCO segmentation into a ``(H, W)`` uint8 mask."""
    return rle_to_mask(segm_to_rle(segm, height, width))


def mask_to_rle(mask: np.ndarray) -> dict:
    """Encode a ``(H, W)`` binary mask as a JSON-safe compressed RLE."""
    return to_json_rle(maskUtils.encode(np.asfortranarray(mask.astype(np.uint8))))


def masks_to_rles(masks: np.ndarray) -> List[dict]:
    """Encode ``(N, H, W)`` binary masks as JSON-safe compressed RLEs."""
    if len(masks) == 0:
        return []
    encoded = maskUtils.encode(np.asfortranarray(np.asarray(masks, dtype=np.uint8).transpose(1, 2, 0)))
    return [to_json_rle(r) for r in encoded]


def bytes_rles(rles: Sequence[dict]) -> List[dict]:
    """The RLEs with ``bytes`` counts, as pycocotools' C routines read them; those that already
    have them are passed on as they are, so a caller that converts a list once can hand it to
    several of the functions below without further copies."""
    out = []
    for r in rles:
        c = r['counts']
        out.append({'size': r['size'], 'counts': c.encode('ascii')} if isinstance(c, str) else r)
    return out


#: pycocotools' ``area`` sizes its temporary array with a uint8, so it takes at most 255 RLEs a
#: call under numpy 2 (more raise an OverflowError).
_AREA_CHUNK = 255


def _areas_of_bytes_rles(rles: List[dict]) -> np.ndarray:
    if not rles:
        return np.zeros(0)
    return np.concatenate([maskUtils.area(rles[i:i + _AREA_CHUNK]).astype(np.float64)
                           for i in range(0, len(rles), _AREA_CHUNK)])


def rle_area(rles: Sequence[dict]) -> np.ndarray:
    """Pixel areas of RLEs as a float64 array."""
    return _areas_of_bytes_rles(bytes_rles(rles))


def rle_intersection_areas(a: Sequence[dict], b: Sequence[dict]) -> np.ndarray:
    """``|a[i] AND b[i]|`` for two equally long lists of RLEs (each pair of one size), float64.

    One pycocotools merge per pair, in its C code.
    """
    if len(a) != len(b):
        raise ValueError(f'{len(a)} and {len(b)} RLEs: the lists must pair up')
    merged = [maskUtils.merge([x, y], intersect=True)
              for x, y in zip(bytes_rles(a), bytes_rles(b))]
    return _areas_of_bytes_rles(merged)


def rle_iou(dt: Sequence[dict], gt: Sequence[dict],
            iscrowd: Union[Sequence[int], None] = None) -> np.ndarray:
    """IoU matrix ``(len(dt), len(gt))`` of RLE masks, exactly as pycocotools computes it.

    For a crowd GT the "IoU" is intersection over the detection area, as in COCOeval.
    """
    if len(dt) == 0 or len(gt) == 0:
        return np.zeros((len(dt), len(gt)))
    crowd = [0] * len(gt) if iscrowd is None else [int(c) for c in iscrowd]
    return np.asarray(maskUtils.iou(bytes_rles(dt), bytes_rles(gt), crowd), dtype=np.float64)


def rle_complement(rle: dict) -> dict:
    """``NOT rle``, computed on the run lengths without decoding the mask."""
    counts = rle['counts']
    runs = rle_runs(counts).tolist()
    # runs alternate 0s and 1s starting with 0s: shifting by one run swaps them
    runs = runs[1:] if runs and runs[0] == 0 else [0] + runs
    height, width = int(rle['size'][0]), int(rle['size'][1])
    return to_json_rle(maskUtils.frPyObjects({'size': [height, width], 'counts': runs},
                                              height, width))


def rle_intersect(a: dict, b: dict) -> dict:
    """``a AND b`` for two RLEs of the same size."""
    return to_json_rle(maskUtils.merge(bytes_rles([a, b]), intersect=True))


def rle_and_not(a: dict, b: dict) -> dict:
    """``a AND NOT b`` for two RLEs of the same size."""
    return rle_intersect(a, rle_complement(b))


def rle_to_bbox(rle: dict) -> List[float]:
    """COCO ``[x, y, w, h]`` box of an RLE."""
    return [float(v) for v in maskUtils.toBbox(bytes_rles([rle])[0])]


def rle_is_and_not(rle: dict, a: dict, b: dict) -> bool:
    """Whether ``rle == a AND NOT b`` for three RLEs of one size, decided without decoding.

    ``rle`` is inside ``a``, misses ``b`` and has as many pixels as ``a AND NOT b``: then it is
    ``a AND NOT b``. Three intersections and five areas of run lengths, in pycocotools' C code.
    """
    if not [int(s) for s in rle['size']] == [int(s) for s in a['size']] == \
            [int(s) for s in b['size']]:
        return False
    c, a, b = bytes_rles([rle, a, b])
    area_c, area_a, c_and_b, c_and_a, a_and_b = maskUtils.area([
        c, a,
        maskUtils.merge([c, b], intersect=True),
        maskUtils.merge([c, a], intersect=True),
        maskUtils.merge([a, b], intersect=True)
    ])
    return c_and_b == 0 and c_and_a == area_c and area_c == area_a - a_and_b
