"""COCOA (COCO amodal, Zhu et al. 2017) in its original ``regions`` format to the canonical one.

The release (``COCO_amodal_{train,val}2014.json``) holds COCO 2014 image records and one
annotation per image whose ``regions`` list the annotated objects and stuff areas. Each region has
``segmentation`` (one flat amodal polygon), ``isStuff``, ``order`` (depth order, 1 = front),
``occlude_rate``, ``name`` (free text), ``area`` and, only when occluded, ``visible_mask`` and
``invisible_mask`` (RLE). Every region becomes one canonical annotation of the single category
``object``; the polygon is kept as the amodal ``segmentation``, ``isStuff`` becomes ``isstuff``,
``order`` and ``name`` are kept, and the invisible mask is written as amodal AND NOT visible.
"""
import os.path as osp
from typing import List, Tuple

from mmorcnn.datasets.amodal_format import AmodalAnnotationError
from .common import (SkipCounter, annotation_image, canonical_annotation, index_images,
                     parse_source_annotation, read_coco_json, track)

#: COCOA is class-agnostic: all regions belong to this category.
COCOA_CATEGORY = dict(id=1, name='object', supercategory='object')


def _region_list(ann: dict, images: dict, src_file: str) -> List[dict]:
    """The ``regions`` of one COCOA annotation, after checking its image and layout."""
    annotation_image(ann, images, src_file)
    regions = ann.get('regions')
    if not isinstance(regions, list):
        raise AmodalAnnotationError(src_file, ann['image_id'], ann.get('id'),
                                    f"'regions' must be a list, not {type(regions).__name__}")
    return regions


def _as_polygons(segm):
    """COCOA stores one flat polygon; the canonical format wants a list of polygons."""
    if isinstance(segm, list) and segm and all(isinstance(v, (int, float)) for v in segm):
        return [segm]
    return segm


def convert_region(region: dict, img_info: dict, ann_id: int, src_file: str, where: str) -> dict:
    """One COCOA region as a canonical annotation with id ``ann_id``.

    Args:
        region (dict): The region from an annotation's ``regions``.
        img_info (dict): Its image record.
        ann_id (int): The id of the new annotation.
        src_file (str): The COCOA file, for errors.
        where (str): ``'<annotation id> region <index>'``, for errors.

    Raises:
        AmodalAnnotationError: no ``isStuff`` flag, an ``order`` that is no integer, an occluded
            region (``occlude_rate > 0``) without visible and invisible masks, and every
            problem :func:`parse_amodal_annotation` finds (polygon, RLE size, masks that do not
            fit each other).
    """
    def error(reason: str) -> AmodalAnnotationError:
        return AmodalAnnotationError(src_file, img_info['id'], where, reason)

    if not isinstance(region, dict):
        raise error(f'region is a {type(region).__name__}, not an object')
    is_stuff = region.get('isStuff')
    if is_stuff not in (0, 1):  # True / False compare equal to 1 / 0
        raise error(f"'isStuff' must be 0 or 1, not {is_stuff!r}")
    order = region.get('order')
    if order is not None and (not isinstance(order, int) or isinstance(order, bool)):
        raise error(f"'order' must be an integer, not {order!r}")
    occlude_rate = region.get('occlude_rate', 0)
    if not isinstance(occlude_rate, (int, float)):
        raise error(f"'occlude_rate' must be a number, not {occlude_rate!r}")
    if occlude_rate > 0 and 'visible_mask' not in region and 'invisible_mask' not in region:
        raise error(f'occluded region (occlude_rate {occlude_rate}) has neither visible_mask '
                    'nor invisible_mask')
    segmentation = _as_polygons(region.get('segmentation'))
    raw = dict(id=ann_id, category_id=COCOA_CATEGORY['id'], iscrowd=0,
               segmentation=segmentation)
    for key in ('visible_mask', 'invisible_mask'):
        if key in region:
            raw[key] = region[key]
    parsed = parse_source_annotation(raw, img_info, [COCOA_CATEGORY['id']], src_file, where)
    name = region.get('name')
    return canonical_annotation(parsed, segmentation=segmentation, isstuff=int(is_stuff),
                                order=order, name=name if isinstance(name, str) else None)


def convert_cocoa(src_file: str,
                  no_stuff: bool = False,
                  on_error: str = 'raise',
                  progress: bool = False) -> Tuple[dict, SkipCounter]:
    """Convert a COCOA annotation file to the canonical format.

    Args:
        src_file (str): ``COCO_amodal_{train,val}2014.json``.
        no_stuff (bool): Drop stuff regions ("COCOA no stuff" of the paper). Defaults to False:
            stuff is kept with ``isstuff=1``.
        on_error (str): ``'raise'`` stops at the first malformed annotation or region,
            ``'skip'`` leaves it out and counts it. Defaults to ``'raise'``.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        tuple: The canonical dataset (all images of the file, new annotation ids from 1, the
        category ``object``) and the :class:`SkipCounter` of what was left out. If an image has
        more than one annotation (several annotators), the first one is used.
    """
    data = read_coco_json(src_file)
    images = index_images(data['images'], src_file)
    skipped = SkipCounter(on_error)
    annotations: List[dict] = []
    converted_images = set()
    for ann in track(data['annotations'], progress):
        try:
            regions = _region_list(ann, images, src_file)
        except AmodalAnnotationError as e:
            skipped.error(e)
            continue
        image_id = ann['image_id']
        if image_id in converted_images:
            skipped.skip('regions of a second annotation of an image (another annotator)',
                         len(regions))
            continue
        converted_images.add(image_id)
        for k, region in enumerate(regions):
            if no_stuff and isinstance(region, dict) and region.get('isStuff') == 1:
                skipped.skip('stuff regions (--no-stuff)')
                continue
            try:
                annotations.append(
                    convert_region(region, images[image_id], len(annotations) + 1, src_file,
                                   f"{ann.get('id')} region {k}"))
            except AmodalAnnotationError as e:
                skipped.error(e)
    dataset = dict(
        info=dict(description='COCOA in the canonical amodal format (mmorcnn)',
                  source=osp.basename(src_file), stuff='dropped' if no_stuff else 'kept'),
        images=list(data['images']),
        annotations=annotations,
        categories=[dict(COCOA_CATEGORY)])
    return dataset, skipped
