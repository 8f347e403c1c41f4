"""The one loader and validator of mmorcnn's canonical amodal annotation format.

The format (DESIGN.md section 3) is COCO JSON with one annotation per instance:
``segmentation`` is the amodal mask, ``bbox`` / ``area`` are of the amodal mask, ``visible_mask``
(absent = fully visible) and ``invisible_mask`` (absent = amodal AND NOT visible) are RLE or
polygons, ``occlude_rate`` is invisible area / amodal area, and ``order`` / ``occluder_ids`` are
optional. The dataset, the metric and the converters all read annotation files through
:func:`load_amodal_coco`, so every one of them sees the same masks and the same errors.
"""
import json
import logging
from dataclasses import dataclass, field
from typing import Collection, Dict, Iterable, List, Optional, Tuple, Union

from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from mmorcnn.structures.mask_utils import (MaskFormatError, rle_and_not, rle_area,
                                           rle_intersect, rle_to_bbox, segm_to_rle)

#: Share of a visible (or invisible) mask's pixels allowed to lie outside the amodal mask before
#: the annotation is rejected: annotators draw the parts separately, so their borders can disagree
#: by a few pixels.
DEFAULT_PART_TOLERANCE = 0.05

#: Optional per-instance fields passed through unchanged (depth order, COCOA's stuff flag).
PASSTHROUGH_KEYS = ('order', 'occluder_ids', 'isstuff')

#: How many skipped annotations :func:`load_amodal_coco` logs one by one before summarising.
MAX_LOGGED_SKIPS = 10


class AmodalAnnotationError(ValueError):
    """An annotation that does not follow the canonical amodal format.

    The message names the annotation file, the image id, the annotation id (``None`` for a
    problem with the image itself) and what is wrong.

    Args:
        ann_file (str): The annotation file that holds the annotation.
        image_id: Id of the image the annotation belongs to.
        ann_id: Id of the annotation, ``None`` for an image-level problem.
        reason (str): What is wrong with it.
    """

    def __init__(self, ann_file: str, image_id, ann_id, reason: str) -> None:
        self.ann_file = ann_file
        self.image_id = image_id
        self.ann_id = ann_id
        self.reason = reason
        where = f'image {image_id}' if ann_id is None else \
            f'image {image_id}, annotation {ann_id}'
        super().__init__(f'{ann_file}: {where}: {reason}')

    def __reduce__(self):  # keep the attributes when sent between dataloader workers
        return type(self), (self.ann_file, self.image_id, self.ann_id, self.reason)


@dataclass
class AmodalCoco:
    """A loaded annotation file.

    Attributes:
        ann_file (str): The file the annotations were read from.
        images (list[dict]): The file's image records (``id``, ``file_name``, ``height``,
            ``width``, ...), in file order.
        categories (list[dict]): The file's category records (``id``, ``name``, ...).
        anns_by_image (dict): ``{image_id: [parsed annotation, ...]}`` for every image, an empty
            list for images without annotations; see :func:`parse_amodal_annotation`.
        skipped (list[tuple]): ``(image_id, ann_id, reason)`` of every annotation left out
            because of ``on_error='skip'``.
    """
    ann_file: str
    images: List[dict]
    categories: List[dict]
    anns_by_image: Dict[int, List[dict]]
    skipped: List[Tuple[int, int, str]] = field(default_factory=list)


def _part_rle(ann: dict, key: str, height: int, width: int) -> Optional[dict]:
    """RLE of the optional ``visible_mask`` / ``invisible_mask``; ``None`` when absent."""
    segm = ann.get(key)
    if segm is None:
        return None
    if isinstance(segm, list) and len(segm) == 0:  # a part may be empty, e.g. fully occluded
        segm = {'size': [height, width], 'counts': [height * width]}
    try:
        return segm_to_rle(segm, height, width)
    except MaskFormatError as e:
        raise MaskFormatError(f'{key}: {e}') from None


def _check_inside(part: dict, amodal: dict, name: str, tolerance: float) -> None:
    part_area = int(rle_area([part])[0])
    outside = part_area - int(rle_area([rle_intersect(part, amodal)])[0])
    if outside > tolerance * part_area:
        raise MaskFormatError(
            f'{name} mask is not inside the amodal mask: {outside} of its {part_area} pixels '
            f'({outside / part_area:.1%}) lie outside, more than the tolerance of '
            f'{tolerance:.1%}')


def parse_amodal_annotation(ann: dict,
                            img_info: dict,
                            cat_ids: Collection[int],
                            ann_file: str,
                            visible_tolerance: float = DEFAULT_PART_TOLERANCE) -> dict:
    """Validate one canonical annotation and bring it into the form every mmorcnn part uses.

    Args:
        ann (dict): The raw annotation from the JSON file.
        img_info (dict): The image record it belongs to (``id``, ``height``, ``width``).
        cat_ids (Collection[int]): Category ids the file declares (a set, for speed).
        ann_file (str): Name of the annotation file, for error messages.
        visible_tolerance (float): Share of the visible (and of a given invisible) mask that may
            lie outside the amodal mask. Defaults to :data:`DEFAULT_PART_TOLERANCE`.

    Returns:
        dict: ``id``, ``image_id``, ``category_id``, ``iscrowd``, ``bbox`` (``[x, y, w, h]`` of
        the amodal mask), ``area`` (pixels of the amodal mask), ``occlude_rate`` (the file's
        value, else invisible area / amodal area), ``amodal`` / ``visible`` / ``invisible``
        (compressed RLEs of the image size, ``counts`` a ``str``), plus ``order`` /
        ``occluder_ids`` when the annotation has them. A missing ``visible_mask`` means fully
        visible (or amodal AND NOT invisible when only ``invisible_mask`` is given); a missing
        ``invisible_mask`` is derived as amodal AND NOT visible.

    Raises:
        AmodalAnnotationError: missing or empty segmentation, a polygon with fewer than 3
            points, an RLE whose size is not the image size, a visible / invisible mask not
            inside the amodal mask, an unknown category id.
    """
    image_id, ann_id = img_info['id'], ann.get('id')
    height, width = int(img_info['height']), int(img_info['width'])

    def error(reason: str) -> AmodalAnnotationError:
        return AmodalAnnotationError(ann_file, image_id, ann_id, reason)

    if ann_id is None:
        raise error("no 'id'")
    if ann.get('category_id') not in cat_ids:
        raise error(f"unknown category id {ann.get('category_id')!r}: the file's categories "
                    f'are {sorted(cat_ids)}')
    segm = ann.get('segmentation')
    if segm is None:
        raise error("no 'segmentation' (the amodal mask)")
    # Everything below works on RLEs: decoding full-size masks would make loading a large
    # dataset (D2S amodal: 1440x1920 images) several times slower.
    try:
        amodal = segm_to_rle(segm, height, width)
        area = float(rle_area([amodal])[0])
        if area == 0:
            raise MaskFormatError('empty amodal mask: its segmentation covers no pixel of the '
                                  f'{height}x{width} image')
        visible = _part_rle(ann, 'visible_mask', height, width)
        invisible = _part_rle(ann, 'invisible_mask', height, width)
        if visible is not None:
            _check_inside(visible, amodal, 'visible', visible_tolerance)
        if invisible is not None:
            _check_inside(invisible, amodal, 'invisible', visible_tolerance)
    except MaskFormatError as e:
        raise error(str(e)) from None

    if visible is None:
        visible = amodal if invisible is None else rle_and_not(amodal, invisible)
    if invisible is None:
        invisible = rle_and_not(amodal, visible)
    occlude_rate = ann.get('occlude_rate')
    if occlude_rate is None:
        occlude_rate = float(rle_area([invisible])[0]) / area
    parsed = dict(
        id=ann_id,
        image_id=image_id,
        category_id=ann['category_id'],
        iscrowd=int(ann.get('iscrowd', 0)),
        bbox=rle_to_bbox(amodal),
        area=area,
        occlude_rate=float(occlude_rate),
        amodal=amodal,
        visible=visible,
        invisible=invisible)
    for key in PASSTHROUGH_KEYS:
        if key in ann:
            parsed[key] = ann[key]
    return parsed


def index_images(images: Iterable[dict], path: str) -> Dict[int, dict]:
    """``{image id: image record}``, checking that each record has what a mask needs."""
    index = {}
    for img in images:
        if not isinstance(img, dict):
            raise AmodalAnnotationError(path, None, None, f'image record {img!r} is no object')
        missing = [key for key in ('id', 'file_name', 'height', 'width') if key not in img]
        if missing:
            raise AmodalAnnotationError(path, img.get('id'), None, f'image record lacks {missing}')
        for key in ('height', 'width'):
            if not isinstance(img[key], int) or img[key] <= 0:
                raise AmodalAnnotationError(path, img['id'], None,
                                            f'{key} {img[key]!r} is not a positive integer')
        if img['id'] in index:
            raise AmodalAnnotationError(path, img['id'], None, 'image id used twice')
        index[img['id']] = img
    return index


def _read_json(ann_file: str, backend_args: Optional[dict]) -> dict:
    with get_local_path(ann_file, backend_args=backend_args) as local_path:
        with open(local_path) as f:
            data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f'{ann_file}: expected a COCO JSON object, got {type(data).__name__}')
    missing = [k for k in ('images', 'annotations', 'categories') if k not in data]
    if missing:
        raise ValueError(f'{ann_file}: not a COCO annotation file, it lacks {missing}')
    return data


def load_amodal_coco(ann_file: str,
                     on_error: str = 'raise',
                     logger: Union[logging.Logger, str, None] = None,
                     visible_tolerance: float = DEFAULT_PART_TOLERANCE,
                     backend_args: Optional[dict] = None) -> AmodalCoco:
    """Load and validate an annotation file in the canonical amodal format.

    Args:
        ann_file (str): Path of the COCO JSON file.
        on_error (str): ``'raise'`` stops at the first bad annotation with an
            :class:`AmodalAnnotationError`; ``'skip'`` leaves bad annotations out, logs them and
            lists them in ``AmodalCoco.skipped``. Problems with the file or an image record
            always raise. Defaults to ``'raise'``.
        logger (logging.Logger | str, optional): Where skipped annotations are reported.
            Defaults to None, the current mmengine logger.
        visible_tolerance (float): See :func:`parse_amodal_annotation`.
        backend_args (dict, optional): mmengine file backend arguments. Defaults to None.

    Returns:
        AmodalCoco: images, categories, parsed annotations per image and skipped annotations.
    """
    if on_error not in ('raise', 'skip'):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    data = _read_json(ann_file, backend_args)
    images = index_images(data['images'], ann_file)
    cat_ids = {cat['id'] for cat in data['categories']}
    anns_by_image: Dict[int, List[dict]] = {img_id: [] for img_id in images}
    skipped: List[Tuple[int, int, str]] = []
    seen_ann_ids = set()
    for ann in data['annotations']:
        image_id, ann_id = ann.get('image_id'), ann.get('id')
        try:
            if image_id not in images:
                raise AmodalAnnotationError(ann_file, image_id, ann_id,
                                            "'image_id' names no image of the file")
            if ann_id in seen_ann_ids:
                raise AmodalAnnotationError(ann_file, image_id, ann_id,
                                            'annotation id used twice')
            parsed = parse_amodal_annotation(ann, images[image_id], cat_ids, ann_file,
                                             visible_tolerance)
        except AmodalAnnotationError as e:
            if on_error == 'raise':
                raise
            skipped.append((image_id, ann_id, e.reason))
            if len(skipped) <= MAX_LOGGED_SKIPS:
                print_log(f'skipped annotation: {e}', logger=logger or 'current',
                          level=logging.WARNING)
            continue
        seen_ann_ids.add(ann_id)
        anns_by_image[image_id].append(parsed)
    if skipped:
        print_log(
            f'{ann_file}: skipped {len(skipped)} of {len(data["annotations"])} annotations '
            f'(the first {min(len(skipped), MAX_LOGGED_SKIPS)} logged above, all listed in '
            'AmodalCoco.skipped)',
            logger=logger or 'current', level=logging.WARNING)
    return AmodalCoco(ann_file=ann_file, images=list(data['images']),
                      categories=list(data['categories']), anns_by_image=anns_by_image,
                      skipped=skipped)
