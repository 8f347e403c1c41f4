"""The one loader and validator of mmorcnn's canonical amodal annotation format.

The format (docs/annotation_format.md) is COCO JSON with one annotation per instance:
``segmentation`` is the amodal mask, ``bbox`` / ``area`` are of the amodal mask, ``visible_mask``
(absent = fully visible) and ``invisible_mask`` (absent = amodal AND NOT visible) are RLE or
polygons, ``occlude_rate`` is invisible area / amodal area, and ``order`` / ``occluder_ids`` are
optional. The dataset, the metric and the converters all read annotation files through
:func:`load_amodal_coco` (or its parts :func:`read_coco_json`, :func:`index_images`,
:func:`index_categories`, :func:`parse_amodal_annotation`), so every one of them sees the same
masks and the same errors.

Validation (docs/annotation_format.md) happens before any pycocotools C routine sees the data: the
file's structure (a JSON object with lists of objects), ids (integers), sizes, numbers (finite,
typed, rates in [0, 1]) and masks (:mod:`mmorcnn.structures.mask_utils`). Every problem is an
:class:`AmodalAnnotationError` naming the file, the image id, the annotation id and what is
wrong. Two small flaws are repaired, logged and counted instead (:attr:`AmodalCoco.repaired`):
a polygon part with fewer than 3 points is dropped while another part remains, and a visible
(or given invisible) mask reaching outside the amodal mask is clipped to it, unless more than
``visible_tolerance`` (half) of it lies outside, which is an error.

With ``on_error='skip'`` an annotation that cannot be used is not deleted: it becomes an
*ignored region*, a crowd region (``iscrowd=1``, as COCO's), so that the metric counts no false
negative for it and a detection on it is neither a true nor a false positive, and training
ignores it as mmdet ignores crowd regions. Deleting it would remove false negatives and raise AP
(docs/annotation_format.md). Its region is its amodal mask where the segmentation decodes to a
non-empty mask, else its ``bbox`` where that is 4 finite numbers covering part of the image; its
category is its own where the file declares it, else every category of the file (one region per
category). An annotation without either region, or one that names no image of the file, cannot
be placed and is left out; every case is logged and listed in :attr:`AmodalCoco.skipped`.
"""
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Collection, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from mmorcnn.structures.errors import AmodalAnnotationError, FormatError, MaskFormatError
from mmorcnn.structures.mask_utils import (bbox_to_rle, check_image_size, empty_rle, is_integer,
                                           is_number, mask_to_rle, rle_and_not, rle_area,
                                           rle_intersect, rle_to_bbox, segm_to_rle)

#: Share of a visible (or given invisible) mask's pixels that may lie outside the amodal mask:
#: annotators draw the parts separately, so their borders disagree by a few pixels, and such a
#: part is clipped to the amodal mask (counted). More than this is an error.
DEFAULT_PART_TOLERANCE = 0.5

#: Optional per-instance fields passed through unchanged (depth order, COCOA's stuff flag).
PASSTHROUGH_KEYS = ('order', 'occluder_ids', 'isstuff')

#: The two repairs of :func:`parse_amodal_annotation`; each repair note starts with one.
REPAIR_DROPPED = 'degenerate polygon part dropped'
REPAIR_CLIPPED = 'mask clipped to the amodal mask'

#: How many skipped (or repaired) annotations :func:`load_amodal_coco` logs one by one before
#: summarising.
MAX_LOGGED_SKIPS = 10


@dataclass
class AmodalCoco:
    """A loaded annotation file.

    Attributes:
        ann_file (str): The file the annotations were read from.
        images (list[dict]): The file's image records (``id``, ``file_name``, ``height``,
            ``width``, ...), in file order.
        categories (list[dict]): The file's category records (``id``, ``name``, ...).
        anns_by_image (dict): ``{image_id: [parsed annotation, ...]}`` for every image, an empty
            list for images without annotations; see :func:`parse_amodal_annotation`. With
            ``on_error='skip'`` it also holds the ignored regions (``iscrowd=1`` and
            ``ignored`` = the reason) of the annotations that could not be used.
        skipped (list[tuple]): ``(image_id, ann_id, reason)`` of every annotation that could
            not be used (``on_error='skip'``).
        ignored (list[tuple]): ``(image_id, ann_id, region)`` of those of them that became
            ignored regions, ``region`` being ``'amodal mask'`` or ``'bbox'``; the others were
            left out.
        repaired (list[tuple]): ``(image_id, ann_id, what)`` for every repaired flaw (a
            degenerate polygon part dropped, a part clipped to the amodal mask).
    """
    ann_file: str
    images: List[dict]
    categories: List[dict]
    anns_by_image: Dict[int, List[dict]]
    skipped: List[Tuple[Any, Any, str]] = field(default_factory=list)
    ignored: List[Tuple[Any, Any, str]] = field(default_factory=list)
    repaired: List[Tuple[Any, Any, str]] = field(default_factory=list)


def read_json(path: str, backend_args: Optional[dict] = None) -> Any:
    """The JSON value of a file (the one JSON reader of annotation and results files).

    Raises:
        FormatError: text that is not JSON (truncated, not UTF-8, nested too deeply, ...); the
            message says where in the text, the caller names the file.
        FileNotFoundError: no such file.
    """
    with get_local_path(path, backend_args=backend_args) as local_path:
        with open(local_path, 'rb') as f:
            raw = f.read()
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        raise FormatError(f'not valid JSON: {e.msg} at line {e.lineno} column {e.colno} '
                          f'(character {e.pos} of {len(raw)})') from None
    except UnicodeDecodeError as e:
        raise FormatError(f'not UTF-8 text: {e.reason} at byte {e.start}') from None
    except RecursionError:
        raise FormatError('not readable JSON: nested too deeply') from None
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        raise FormatError(f'not readable JSON: {e}') from None


def read_coco_json(path: str,
                   required: Sequence[str] = ('images', 'annotations'),
                   backend_args: Optional[dict] = None) -> dict:
    """Read a COCO-style JSON object and check that its ``required`` top-level keys are lists
    of objects.

    Raises:
        AmodalAnnotationError: not JSON, not an object, a required key missing or not a list
            of objects.
    """
    try:
        data = read_json(path, backend_args)
    except FormatError as e:
        raise AmodalAnnotationError(path, None, None, str(e)) from None
    if not isinstance(data, dict):
        raise AmodalAnnotationError(path, None, None, 'expected a COCO JSON object, got a '
                                    f'{type(data).__name__}')
    missing = [key for key in required if key not in data]
    if missing:
        raise AmodalAnnotationError(path, None, None,
                                    f'not a COCO annotation file, it lacks {missing}')
    for key in required:
        if not isinstance(data[key], list):
            raise AmodalAnnotationError(path, None, None, f"'{key}' is a "
                                        f'{type(data[key]).__name__}, not a list')
        for k, item in enumerate(data[key]):
            if not isinstance(item, dict) and key != 'annotations':  # see load_amodal_coco
                raise AmodalAnnotationError(path, None, None, f'{key}[{k}] is a '
                                            f'{type(item).__name__}, not an object')
    return data


#: Ids are kept in int64 arrays by the evaluation.
MAX_ID = 2**63 - 1


def _check_id(value, what: str) -> None:
    if not is_integer(value) or not -MAX_ID <= value <= MAX_ID:
        raise FormatError(f'{what} {value!r} is not an integer (of at most 64 bits)')


def index_images(images: Iterable[dict], path: str) -> Dict[int, dict]:
    """``{image id: image record}``, checking that each record has what a mask needs: an
    integer ``id`` used once, a ``file_name`` and a ``height`` / ``width`` that pycocotools can
    hold (:func:`~mmorcnn.structures.mask_utils.check_image_size`)."""
    index = {}
    for k, img in enumerate(images):
        if not isinstance(img, dict):
            raise AmodalAnnotationError(path, None, None,
                                        f'images[{k}] is a {type(img).__name__}, not an object')
        missing = [key for key in ('id', 'file_name', 'height', 'width') if key not in img]
        image_id = img.get('id')
        where = image_id if is_integer(image_id) else None
        try:
            if missing:
                raise FormatError(f'image record lacks {missing} (images[{k}])')
            _check_id(image_id, f'image id of images[{k}]')
            if not isinstance(img['file_name'], str):
                raise FormatError(f"file_name {img['file_name']!r} is not a string")
            check_image_size(img['height'], img['width'])
        except FormatError as e:
            raise AmodalAnnotationError(path, where, None, str(e)) from None
        if image_id in index:
            raise AmodalAnnotationError(path, image_id, None, 'image id used twice')
        index[image_id] = img
    return index


def index_categories(categories: Iterable[dict], path: str) -> Dict[int, dict]:
    """``{category id: category record}``, checking integer ids and names used once."""
    index, names = {}, set()
    for k, cat in enumerate(categories):
        if not isinstance(cat, dict):
            raise AmodalAnnotationError(path, None, None, f'categories[{k}] is a '
                                        f'{type(cat).__name__}, not an object')
        cat_id, name = cat.get('id'), cat.get('name')
        try:
            _check_id(cat_id, f'categories[{k}]: id')
        except FormatError as e:
            raise AmodalAnnotationError(path, None, None, str(e)) from None
        if not isinstance(name, str):
            raise AmodalAnnotationError(path, None, None,
                                        f'category {cat_id}: name {name!r} is not a string')
        if cat_id in index or name in names:
            raise AmodalAnnotationError(path, None, None, f'category {cat_id} ({name!r}): id '
                                        'or name used twice')
        index[cat_id] = cat
        names.add(name)
    return index


def category_ids_of_classes(categories: Sequence[dict],
                            classes: Optional[Sequence[str]],
                            ann_file: str) -> List[int]:
    """The category id of each class (label ``i`` is category ``ids[i]``), found by name.

    Args:
        categories (Sequence[dict]): The file's category records (``id``, ``name``).
        classes (Sequence[str], optional): Class names in label order, e.g. the dataset's
            ``metainfo['classes']``. None: the file's categories in file order.
        ann_file (str): The annotation file, for the error.

    Raises:
        AmodalAnnotationError: a class that is not among the file's categories.
    """
    if classes is None:
        return [cat['id'] for cat in categories]
    id_of_name = {cat['name']: cat['id'] for cat in categories}
    unknown = [name for name in classes if name not in id_of_name]
    if unknown:
        raise AmodalAnnotationError(ann_file, None, None,
                                    f'the configured classes {unknown} are not among the '
                                    f"file's categories {list(id_of_name)}")
    return [id_of_name[name] for name in classes]


def _part_rle(ann: dict, key: str, height: int, width: int, dropped: List[str]) -> Optional[dict]:
    """RLE of the optional ``visible_mask`` / ``invisible_mask``; ``None`` when absent."""
    segm = ann.get(key)
    if segm is None:
        return None
    if isinstance(segm, list) and len(segm) == 0:  # a part may be empty, e.g. fully occluded
        return empty_rle(height, width)
    notes: List[str] = []
    try:
        rle = segm_to_rle(segm, height, width, dropped=notes)
    except MaskFormatError as e:
        raise MaskFormatError(f'{key}: {e}') from None
    dropped.extend(f'{REPAIR_DROPPED}: {key} {note}' for note in notes)
    return rle


def _clip_to_amodal(part: dict, amodal: dict, name: str, tolerance: float,
                    repairs: List[str]) -> dict:
    """``part AND amodal``; a repair note when pixels were cut, an error beyond ``tolerance``."""
    part_area = int(rle_area([part])[0])
    inside = rle_intersect(part, amodal)
    outside = part_area - int(rle_area([inside])[0])
    if outside == 0:
        return part
    if outside > tolerance * part_area:
        raise MaskFormatError(
            f'{name} mask is not inside the amodal mask: {outside} of its {part_area} pixels '
            f'({outside / part_area:.1%}) lie outside, more than the tolerance of '
            f'{tolerance:.1%}')
    repairs.append(f'{name} {REPAIR_CLIPPED}: {outside} of its {part_area} pixels were '
                   'outside')
    return inside


def _flag(ann: dict, key: str) -> int:
    value = ann.get(key, 0)
    if value not in (0, 1) or not (is_integer(value) or isinstance(value, bool)):
        raise FormatError(f"'{key}' must be 0 or 1 (or a bool), not {value!r}")
    return int(value)


def _check_passthrough(ann: dict) -> None:
    order = ann.get('order')
    if order is not None and not is_integer(order):
        raise FormatError(f"'order' must be an integer, not {order!r}")
    occluders = ann.get('occluder_ids')
    if occluders is not None and (not isinstance(occluders, list)
                                  or not all(is_integer(i) for i in occluders)):
        raise FormatError(f"'occluder_ids' must be a list of annotation ids, not {occluders!r}")


def parse_amodal_annotation(ann: dict,
                            img_info: dict,
                            cat_ids: Collection[int],
                            ann_file: str,
                            visible_tolerance: float = DEFAULT_PART_TOLERANCE) -> dict:
    """Validate one canonical annotation and bring it into the form every mmorcnn part uses.

    Args:
        ann (dict): The raw annotation from the JSON file.
        img_info (dict): The image record it belongs to (``id``, ``height``, ``width``),
            validated by :func:`index_images`.
        cat_ids (Collection[int]): Category ids the file declares (a set, for speed).
        ann_file (str): Name of the annotation file, for error messages.
        visible_tolerance (float): Share of the visible (and of a given invisible) mask that may
            lie outside the amodal mask; what lies outside is clipped. Defaults to
            :data:`DEFAULT_PART_TOLERANCE`.

    Returns:
        dict: ``id``, ``image_id``, ``category_id``, ``iscrowd``, ``bbox`` (``[x, y, w, h]`` of
        the amodal mask), ``area`` (pixels of the amodal mask), ``occlude_rate`` (the file's
        value, else invisible area / amodal area), ``amodal`` / ``visible`` / ``invisible``
        (compressed RLEs of the image size, ``counts`` a ``str``), plus ``stated_area`` (the
        file's ``area``), ``order`` / ``occluder_ids`` / ``isstuff`` when the annotation has
        them, and ``repairs`` (what was
        repaired, see the module docstring) when something was. A missing ``visible_mask``
        means fully visible (or amodal AND NOT invisible when only ``invisible_mask`` is
        given); a missing ``invisible_mask`` is derived as amodal AND NOT visible.

    Raises:
        AmodalAnnotationError: an annotation that is no object; an ``id`` or ``category_id``
            that is no integer, an unknown category id; a flag (``iscrowd``, ``isstuff``) that
            is not 0 / 1, an ``occlude_rate`` that is no number in [0, 1], an ``area`` that is
            no finite number >= 0, an ``order`` or ``occluder_ids`` of the wrong type; a
            missing, malformed or empty amodal segmentation, a malformed visible / invisible
            mask (see :mod:`~mmorcnn.structures.mask_utils`), one more than
            ``visible_tolerance`` outside the amodal mask.
    """
    image_id = img_info['id']
    ann_id = ann.get('id') if isinstance(ann, dict) else None
    height, width = int(img_info['height']), int(img_info['width'])

    def error(reason: str) -> AmodalAnnotationError:
        return AmodalAnnotationError(ann_file, image_id, ann_id, reason)

    if not isinstance(ann, dict):
        raise error(f'the annotation is a {type(ann).__name__}, not an object')
    repairs: List[str] = []
    try:
        if ann_id is None:
            raise FormatError("no 'id'")
        _check_id(ann_id, "'id'")
        category_id = ann.get('category_id')
        if not is_integer(category_id) or category_id not in cat_ids:
            raise FormatError(f'unknown category id {category_id!r}: the file\'s categories '
                              f'are {sorted(cat_ids)}')
        iscrowd = _flag(ann, 'iscrowd')
        if 'isstuff' in ann:
            _flag(ann, 'isstuff')
        _check_passthrough(ann)
        occlude_rate = ann.get('occlude_rate')
        if occlude_rate is not None and (not is_number(occlude_rate)
                                         or not 0 <= occlude_rate <= 1):
            raise FormatError(f"'occlude_rate' must be a number in [0, 1], not {occlude_rate!r}")
        stated_area = ann.get('area')
        if stated_area is not None and (not is_number(stated_area)
                                        or not 0 <= stated_area < float('inf')):
            raise FormatError(f"'area' must be a finite number >= 0, not {stated_area!r}")
        segm = ann.get('segmentation')
        if segm is None:
            raise FormatError("no 'segmentation' (the amodal mask)")
        # Everything below works on RLEs: decoding full-size masks would make loading a large
        # dataset (D2S amodal: 1440x1920 images) several times slower.
        notes: List[str] = []
        amodal = segm_to_rle(segm, height, width, dropped=notes)
        repairs += [f'{REPAIR_DROPPED}: segmentation {note}' for note in notes]
        area = float(rle_area([amodal])[0])
        if area == 0:
            raise MaskFormatError('empty amodal mask: its segmentation covers no pixel of the '
                                  f'{height}x{width} image')
        visible = _part_rle(ann, 'visible_mask', height, width, repairs)
        invisible = _part_rle(ann, 'invisible_mask', height, width, repairs)
        if visible is not None:
            visible = _clip_to_amodal(visible, amodal, 'visible', visible_tolerance, repairs)
        if invisible is not None:
            invisible = _clip_to_amodal(invisible, amodal, 'invisible', visible_tolerance,
                                        repairs)
    except FormatError as e:
        raise error(str(e)) from None

    if visible is None:
        visible = amodal if invisible is None else rle_and_not(amodal, invisible)
    if invisible is None:
        invisible = rle_and_not(amodal, visible)
    if occlude_rate is None:
        occlude_rate = float(rle_area([invisible])[0]) / area
    parsed = dict(
        id=ann_id,
        image_id=image_id,
        category_id=category_id,
        iscrowd=iscrowd,
        bbox=rle_to_bbox(amodal),
        area=area,
        occlude_rate=float(occlude_rate),
        amodal=amodal,
        visible=visible,
        invisible=invisible)
    if stated_area is not None:  # COCO's size bins read the file's value, as pycocotools does
        parsed['stated_area'] = float(stated_area)
    for key in PASSTHROUGH_KEYS:
        if ann.get(key) is not None:
            parsed[key] = ann[key]
    if repairs:
        parsed['repairs'] = repairs
    return parsed


def ignored_regions(ann: Any, img_info: dict, cat_ids: Collection[int],
                    reason: str) -> Tuple[List[dict], Optional[str]]:
    """The ignored regions that stand for an annotation that cannot be used (module docstring).

    Args:
        ann: The raw annotation.
        img_info (dict): Its (validated) image record.
        cat_ids (Collection[int]): The file's category ids.
        reason (str): Why the annotation cannot be used; kept as ``ignored``.

    Returns:
        tuple: Parsed crowd regions (one per category when the annotation's own category is
        unknown; none when it has no usable region; ``id`` None unless the annotation's is an
        integer) and where the region comes from (``'amodal mask'``, ``'bbox'`` or None).
    """
    height, width = int(img_info['height']), int(img_info['width'])
    if not isinstance(ann, dict):
        return [], None
    region, source = None, None
    try:
        rle = segm_to_rle(ann.get('segmentation'), height, width, dropped=[])
        if rle_area([rle])[0] > 0:
            region, source = rle, 'amodal mask'
    except MaskFormatError:
        pass
    if region is None:
        try:
            region, source = bbox_to_rle(ann.get('bbox'), height, width), 'bbox'
        except MaskFormatError:
            return [], None
    category_id = ann.get('category_id')
    own = is_integer(category_id) and category_id in cat_ids
    area = float(rle_area([region])[0])
    empty = empty_rle(height, width)
    ann_id = ann.get('id') if is_integer(ann.get('id')) else None  # ids are keys elsewhere
    regions = [
        dict(id=ann_id, image_id=img_info['id'], category_id=cat_id, iscrowd=1,
             bbox=rle_to_bbox(region), area=area, occlude_rate=0., amodal=region,
             visible=region, invisible=empty, ignored=reason)
        for cat_id in ([category_id] if own else sorted(cat_ids))
    ]
    return regions, source


def _log_each(kind: str, items: List[str], logger) -> None:
    for text in items[:MAX_LOGGED_SKIPS]:
        print_log(f'{kind}: {text}', logger=logger, level=logging.WARNING)


def load_amodal_coco(ann_file: str,
                     on_error: str = 'raise',
                     logger: Union[logging.Logger, str, None] = None,
                     visible_tolerance: float = DEFAULT_PART_TOLERANCE,
                     backend_args: Optional[dict] = None) -> AmodalCoco:
    """Load and validate an annotation file in the canonical amodal format.

    Args:
        ann_file (str): Path of the COCO JSON file.
        on_error (str): ``'raise'`` stops at the first bad annotation with an
            :class:`AmodalAnnotationError`; ``'skip'`` turns each bad annotation into an
            ignored region (module docstring), logs it and lists it in ``AmodalCoco.skipped``.
            Problems with the file, an image or a category record always raise. Defaults to
            ``'raise'``.
        logger (logging.Logger | str, optional): Where skipped and repaired annotations are
            reported. Defaults to None, the current mmengine logger.
        visible_tolerance (float): See :func:`parse_amodal_annotation`.
        backend_args (dict, optional): mmengine file backend arguments. Defaults to None.

    Returns:
        AmodalCoco: images, categories, parsed annotations per image (with the ignored
        regions), skipped, ignored and repaired annotations.
    """
    if on_error not in ('raise', 'skip'):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    logger = logger or 'current'
    data = read_coco_json(ann_file, ('images', 'annotations', 'categories'), backend_args)
    images = index_images(data['images'], ann_file)
    cat_ids = set(index_categories(data['categories'], ann_file))
    anns_by_image: Dict[int, List[dict]] = {img_id: [] for img_id in images}
    coco = AmodalCoco(ann_file=ann_file, images=list(data['images']),
                      categories=list(data['categories']), anns_by_image=anns_by_image)
    seen_ann_ids = set()
    skip_logs, repair_logs = [], []
    for k, ann in enumerate(data['annotations']):
        image_id = ann.get('image_id') if isinstance(ann, dict) else None
        ann_id = ann.get('id') if isinstance(ann, dict) else None
        known_image = is_integer(image_id) and image_id in images
        try:
            if not isinstance(ann, dict):
                raise AmodalAnnotationError(ann_file, None, None, f'annotations[{k}] is a '
                                            f'{type(ann).__name__}, not an object')
            if not known_image:
                raise AmodalAnnotationError(ann_file, image_id, ann_id,
                                            "'image_id' names no image of the file")
            parsed = parse_amodal_annotation(ann, images[image_id], cat_ids, ann_file,
                                             visible_tolerance)
            if ann_id in seen_ann_ids:
                raise AmodalAnnotationError(ann_file, image_id, ann_id,
                                            'annotation id used twice')
        except AmodalAnnotationError as e:
            if on_error == 'raise':
                raise
            regions, source = ignored_regions(ann, images[image_id], cat_ids, e.reason) \
                if known_image else ([], None)
            coco.skipped.append((image_id, ann_id, e.reason))
            if regions:
                anns_by_image[image_id].extend(regions)
            if source is not None:
                coco.ignored.append((image_id, ann_id, source))
            skip_logs.append(f'{e}; ' + (
                f'it becomes an ignored region (its {source})' if source else
                'left out (no usable region)' if known_image else 'left out (no image)'))
            continue
        seen_ann_ids.add(ann_id)
        anns_by_image[image_id].append(parsed)
        for what in parsed.get('repairs', ()):
            coco.repaired.append((image_id, ann_id, what))
            repair_logs.append(f'{ann_file}: image {image_id}, annotation {ann_id}: {what}')
    _log_each('skipped annotation', skip_logs, logger)
    _log_each('repaired annotation', repair_logs, logger)
    total = len(data['annotations'])
    if coco.skipped:
        print_log(
            f'{ann_file}: skipped {len(coco.skipped)} of {total} annotations: '
            f'{len(coco.ignored)} became ignored regions (like crowd regions: no false '
            'negative, detections on them neither true nor false positives), '
            f'{len(coco.skipped) - len(coco.ignored)} were left out (no usable region or '
            f'image); the first {min(len(skip_logs), MAX_LOGGED_SKIPS)} are logged above, all '
            'are listed in AmodalCoco.skipped', logger=logger, level=logging.WARNING)
    if coco.repaired:
        kinds = Counter(what.split(':')[0] for _, _, what in coco.repaired)
        print_log(f'{ann_file}: {len(coco.repaired)} repairs in '
                  f'{len({(i, a) for i, a, _ in coco.repaired})} of {total} annotations: '
                  f'{dict(kinds)}; listed in AmodalCoco.repaired', logger=logger,
                  level=logging.WARNING)
    return coco


def annotation_from_masks(ann_id: int,
                          image_id: int,
                          category_id: int,
                          amodal: np.ndarray,
                          visible: np.ndarray,
                          iscrowd: int = 0,
                          segmentation=None,
                          write_all_masks: bool = False,
                          **extra) -> dict:
    """A canonical JSON annotation whose three masks agree exactly.

    Args:
        ann_id (int): Annotation id.
        image_id (int): Image id.
        category_id (int): Category id.
        amodal (np.ndarray): ``(H, W)`` binary amodal mask, not empty.
        visible (np.ndarray): ``(H, W)`` binary visible mask; clipped to ``amodal``.
        iscrowd (int): COCO's crowd flag. Defaults to 0.
        segmentation (list | dict, optional): The amodal segmentation to write, e.g. source
            polygons, which may leave the image. Defaults to None, the RLE of ``amodal``.
        write_all_masks (bool): Write ``visible_mask`` and ``invisible_mask`` of an unoccluded
            instance too (files that state every mask, as the synthetic dataset's). Defaults
            to False: left out, as the loader restores them exactly.
        **extra: More fields (``order``, ``isstuff``, ...); ``None`` values are left out.

    Returns:
        dict: ``id``, ``image_id``, ``category_id``, ``iscrowd``, ``segmentation``, ``bbox`` and
        ``area`` of the amodal mask, ``occlude_rate`` = invisible area / amodal area and, for an
        occluded instance (or with ``write_all_masks``), ``visible_mask`` and
        ``invisible_mask`` = amodal AND NOT visible as RLEs (absent means fully visible).
    """
    amodal = amodal.astype(np.uint8)
    visible = visible.astype(np.uint8) & amodal
    invisible = amodal & (1 - visible)
    amodal_rle = mask_to_rle(amodal)
    area = float(amodal.sum())
    invisible_area = int(invisible.sum())
    ann = dict(
        id=ann_id,
        image_id=image_id,
        category_id=category_id,
        iscrowd=int(iscrowd),
        segmentation=amodal_rle if segmentation is None else segmentation,
        bbox=rle_to_bbox(amodal_rle),
        area=area,
        occlude_rate=invisible_area / area)
    if invisible_area or write_all_masks:
        ann['visible_mask'] = mask_to_rle(visible)
        ann['invisible_mask'] = mask_to_rle(invisible)
    ann.update({key: value for key, value in extra.items() if value is not None})
    return ann
