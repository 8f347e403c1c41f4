"""COCOA (COCO amodal, Zhu et al. 2017) in each of its public shapes to the canonical format.

Two shapes were released; :func:`cocoa_shape` tells them apart by content, not by file name:

* ``regions`` (``COCO_amodal_{train,val,test}2014.json``, what amodalAPI reads): COCO 2014 image
  records and one annotation per image (``id``, ``image_id``, ``size``, ``author``, ``url``,
  ``depth_constraint``) whose ``regions`` list the annotated objects and stuff areas. Each region
  has ``segmentation`` (one flat amodal polygon), ``isStuff``, ``order`` (depth order, 1 =
  front), ``occlude_rate``, ``name`` (free text), ``area`` and, only when occluded,
  ``visible_mask`` and ``invisible_mask`` (RLE). Every region becomes one canonical annotation of
  the single category ``object`` with a new id (1, 2, ... in file order). The image-level
  ``depth_constraint`` (``'1-2,1-3'``: pairs of orders, front first) is kept in the image record.
* ``flat`` (``COCO_amodal_{train,val}2014_with_classes.json``, the authors' COCOA cls, and
  ``COCO_amodal_{train,val,test}2014_detectron_no_stuff.json``, COCOA without stuff, both made
  for Detectron): one COCO annotation per instance with ``segmentation`` (amodal polygon(s) or
  RLE), ``visible_mask`` / ``invisible_mask``, ``occlude_rate`` and, where given, ``order``,
  ``isStuff`` and ``name``. The file's categories (COCO's for "with classes", ``object`` for
  "detectron no stuff") and annotation ids are kept.

In both shapes the release's polygon is kept as the amodal ``segmentation``, ``isStuff`` becomes
``isstuff``, and the stated ``order``, ``occlude_rate``, visible and invisible masks are kept as
they are (disagreements with the masks counted, :func:`~.common.canonical_annotation`);
``occluder_ids`` follow the masks by the one occlusion rule, directed by the stated order
(:func:`~.common.add_occluder_ids`).
"""
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmorcnn.datasets.amodal_format import AmodalAnnotationError
from .common import (SkipCounter, add_occluder_ids, annotation_image, canonical_annotation,
                     index_images, parse_source_annotation, read_coco_json,
                     record_disagreements, track)

#: COCOA is class-agnostic: all regions belong to this category.
COCOA_CATEGORY = dict(id=1, name='object', supercategory='object')

#: What :func:`cocoa_shape` returns for each public shape, and how the summary names it.
SHAPES = {
    'regions': 'COCOA, one annotation with regions per image (COCO_amodal_*2014.json)',
    'flat-classes': 'COCOA cls, flat per instance with COCO categories '
                    '(COCO_amodal_*2014_with_classes.json)',
    'flat': 'COCOA, flat per instance (COCO_amodal_*2014_detectron_no_stuff.json)',
}


def cocoa_shape(data: dict, src_file: str) -> str:
    """``'regions'``, ``'flat-classes'`` or ``'flat'``: the shape of a COCOA file's content.

    Raises:
        ValueError: the annotations mix both shapes, or are in neither.
    """
    anns = [ann for ann in data['annotations'] if isinstance(ann, dict)]
    with_regions = sum('regions' in ann for ann in anns)
    flat = sum('regions' not in ann and 'segmentation' in ann for ann in anns)
    if with_regions and flat:
        raise ValueError(f'{src_file}: {with_regions} annotations have "regions" (one per image) '
                         f'and {flat} have their own "segmentation" (one per instance); a COCOA '
                         'file is in one shape only')
    if with_regions or not anns:
        return 'regions'
    if not flat:
        raise ValueError(f'{src_file}: its annotations have neither "regions" nor '
                         '"segmentation"; not a COCOA file')
    if not isinstance(data.get('categories'), list) or not data['categories']:
        raise ValueError(f'{src_file}: a flat (per-instance) COCOA file needs its "categories"')
    return 'flat-classes' if len(data['categories']) > 1 else 'flat'


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


def _stuff_flag(instance: dict) -> Optional[int]:
    """``isStuff`` (or ``isstuff``) of a region or flat annotation; None when not given."""
    return instance.get('isStuff', instance.get('isstuff'))


def convert_instance(instance: dict, img_info: dict, ann_id: int, category_id, cat_ids,
                     src_file: str, where, log: SkipCounter,
                     stuff_required: bool = True) -> Tuple[dict, dict]:
    """One COCOA region or flat annotation as a canonical annotation with id ``ann_id``.

    Args:
        instance (dict): The region (or flat annotation).
        img_info (dict): Its image record.
        ann_id (int): The id of the new annotation.
        category_id: Its category.
        cat_ids: The file's category ids.
        src_file (str): The COCOA file, for errors.
        where: The instance in the file (``'<annotation id> region <index>'`` or its id).
        log (SkipCounter): Where disagreements of stated values and masks are counted.
        stuff_required (bool): A missing ``isStuff`` is an error (regions always have it).
            Defaults to True.

    Returns:
        tuple: The canonical annotation and its parsed form.

    Raises:
        AmodalAnnotationError: no or a non-0/1 ``isStuff`` flag, an ``order`` that is no integer,
            an ``occlude_rate`` that is no number, and every problem
            :func:`parse_amodal_annotation` finds (polygon, RLE size, masks that do not fit).
            An occluded region (``occlude_rate > 0``) without visible and invisible masks is
            kept as stated (fully visible masks) and counted as a rate disagreement.
    """
    def error(reason: str) -> AmodalAnnotationError:
        return AmodalAnnotationError(src_file, img_info['id'], where, reason)

    if not isinstance(instance, dict):
        raise error(f'region is a {type(instance).__name__}, not an object')
    is_stuff = _stuff_flag(instance)
    if (is_stuff is not None or stuff_required) and is_stuff not in (0, 1):
        raise error(f"'isStuff' must be 0 or 1, not {is_stuff!r}")  # True / False pass
    order = instance.get('order')
    if order is not None and (not isinstance(order, int) or isinstance(order, bool)):
        raise error(f"'order' must be an integer, not {order!r}")
    occlude_rate = instance.get('occlude_rate')
    if occlude_rate is not None and (not isinstance(occlude_rate, (int, float))
                                     or isinstance(occlude_rate, bool)):
        raise error(f"'occlude_rate' must be a number, not {occlude_rate!r}")
    segmentation = _as_polygons(instance.get('segmentation'))
    stated = dict(id=ann_id, category_id=category_id, iscrowd=instance.get('iscrowd', 0),
                  segmentation=segmentation)
    for key in ('visible_mask', 'invisible_mask', 'occlude_rate'):
        if instance.get(key) is not None:
            stated[key] = instance[key]
    parsed = parse_source_annotation(stated, img_info, cat_ids, src_file, where)
    name = instance.get('name')
    canonical = canonical_annotation(
        parsed, stated, log, src_file, where, segmentation=segmentation,
        isstuff=None if is_stuff is None else int(is_stuff), order=order,
        name=name if isinstance(name, str) else None)
    return canonical, parsed


def _convert_regions(data: dict, images: Dict[int, dict], src_file: str, no_stuff: bool,
                     skipped: SkipCounter, progress: bool) -> Tuple[List[dict], List[dict]]:
    """Images and canonical annotations of a file in the ``regions`` shape."""
    annotations: List[dict] = []
    depth_constraints: Dict[int, str] = {}
    for ann in track(data['annotations'], progress):
        try:
            regions = _region_list(ann, images, src_file)
        except AmodalAnnotationError as e:
            skipped.error(e)
            continue
        image_id = ann['image_id']
        if image_id in depth_constraints:
            skipped.skip('regions of a second annotation of an image (another annotator)',
                         len(regions))
            continue
        depth_constraints[image_id] = ann.get('depth_constraint')
        converted = []
        for k, region in enumerate(regions):
            if no_stuff and isinstance(region, dict) and _stuff_flag(region) == 1:
                skipped.skip('stuff regions (--no-stuff)')
                continue
            try:
                converted.append(
                    convert_instance(region, images[image_id], len(annotations) + 1,
                                     COCOA_CATEGORY['id'], {COCOA_CATEGORY['id']}, src_file,
                                     f"{ann.get('id')} region {k}", skipped))
            except AmodalAnnotationError as e:
                skipped.error(e)
                continue
            annotations.append(converted[-1][0])
        add_occluder_ids([c for c, _ in converted], [p for _, p in converted], skipped,
                         src_file)
    out_images = []
    for img in data['images']:
        constraint = depth_constraints.get(img['id'])
        out_images.append(img if constraint is None else dict(img, depth_constraint=constraint))
    return out_images, annotations


def _convert_flat(data: dict, images: Dict[int, dict], src_file: str, no_stuff: bool,
                  skipped: SkipCounter, progress: bool) -> List[dict]:
    """Canonical annotations of a file in the flat (per-instance) shape; ids are kept."""
    cat_ids = {cat['id'] for cat in data['categories']}
    by_image: Dict[int, List[Tuple[dict, dict]]] = {}
    ann_ids = set()
    for ann in track(data['annotations'], progress):
        try:
            img_info = annotation_image(ann, images, src_file)
            if ann.get('id') is None or ann['id'] in ann_ids:
                raise AmodalAnnotationError(src_file, img_info['id'], ann.get('id'),
                                            'annotation id missing or used twice')
            if no_stuff and _stuff_flag(ann) == 1:
                skipped.skip('stuff regions (--no-stuff)')
                continue
            converted = convert_instance(ann, img_info, ann['id'], ann.get('category_id'),
                                         cat_ids, src_file, ann['id'], skipped,
                                         stuff_required=False)
        except AmodalAnnotationError as e:
            skipped.error(e)
            continue
        ann_ids.add(ann['id'])
        by_image.setdefault(img_info['id'], []).append(converted)
    annotations = []
    for converted in by_image.values():
        add_occluder_ids([c for c, _ in converted], [p for _, p in converted], skipped,
                         src_file)
        annotations.extend(c for c, _ in converted)
    annotations.sort(key=lambda a: a['id'])
    return annotations


def convert_cocoa(src_file: str,
                  no_stuff: bool = False,
                  on_error: str = 'raise',
                  progress: bool = False) -> Tuple[dict, SkipCounter]:
    """Convert a COCOA annotation file, in either public shape, to the canonical format.

    Args:
        src_file (str): ``COCO_amodal_{train,val,test}2014.json`` (regions), or
            ``COCO_amodal_*2014_with_classes.json`` / ``COCO_amodal_*2014_detectron_no_stuff.json``
            (flat); the shape is read from the content.
        no_stuff (bool): Drop stuff regions ("COCOA no stuff" of the paper). Defaults to False:
            stuff is kept with ``isstuff=1``.
        on_error (str): ``'raise'`` stops at the first malformed annotation or region,
            ``'skip'`` leaves it out and counts it. Defaults to ``'raise'``.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        tuple: The canonical dataset (all images of the file; regions: new annotation ids from
        1 and the category ``object``; flat: the file's ids and categories; ``info['shape']``
        names the shape) and the :class:`SkipCounter` of what was left out and of the stated
        values that disagree with the masks. If an image has more than one annotation with
        regions (several annotators), the first one is used.
    """
    data = read_coco_json(src_file)
    shape = cocoa_shape(data, src_file)
    images = index_images(data['images'], src_file)
    skipped = SkipCounter(on_error)
    if shape == 'regions':
        out_images, annotations = _convert_regions(data, images, src_file, no_stuff, skipped,
                                                   progress)
        categories = [dict(COCOA_CATEGORY)]
    else:
        out_images = list(data['images'])
        annotations = _convert_flat(data, images, src_file, no_stuff, skipped, progress)
        categories = list(data['categories'])
    dataset = dict(
        info=dict(description='COCOA in the canonical amodal format (mmorcnn)',
                  source=osp.basename(src_file), shape=shape,
                  stuff='dropped' if no_stuff else 'kept'),
        images=out_images,
        annotations=annotations,
        categories=categories)
    return record_disagreements(dataset, skipped), skipped
