"""KINS (Qi et al. 2019) to the canonical amodal format; both releases are read.

* KINS v1 (``instances_{train,val}.json``): ``segmentation`` is the amodal polygon, ``bbox`` its
  box, ``inmodal_seg`` the visible mask (RLE) and ``inmodal_bbox`` its box.
* KINS 2020 (``update_{train,test}_2020.json``): ``a_segm`` / ``a_bbox`` amodal, ``i_segm`` /
  ``i_bbox`` visible (polygons), ``oco_id`` the occlusion cluster and ``ico_id`` the order in it.
  The release's README: the instances of an image are partitioned into disconnected clusters of
  overlapping instances; within a cluster the order starts at 1 (front) and grows by one each
  time an instance is occluded once; instances that overlap nothing have ``ico_id`` 0.

The release's categories are kept. KINS 2020's ``ico_id`` becomes the canonical ``order``
(absent for ``ico_id`` 0), ranked within its cluster ``oco_id``; both are also passed through.
``occluder_ids`` follow the masks by the one occlusion rule, directed by the stated order within a
cluster (:func:`~.common.add_occluder_ids`; overlaps across clusters are counted). Amodal
polygons may reach outside the image (KINS annotates objects cut by the border); they are kept
as they are, while ``bbox`` and ``area`` describe the part inside the image.
"""
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from mmorcnn.datasets.amodal_format import AmodalAnnotationError
from .common import (SkipCounter, add_occluder_ids, annotation_image, canonical_annotation,
                     index_images, parse_source_annotation, read_coco_json,
                     record_disagreements, track)

#: Amodal and visible mask fields of each release.
KINS_FIELDS: Dict[str, Tuple[str, str]] = {
    'v1': ('segmentation', 'inmodal_seg'),
    '2020': ('a_segm', 'i_segm'),
}

#: Occlusion fields of KINS 2020 passed through unchanged.
KINS_PASSTHROUGH = ('oco_id', 'ico_id')


def kins_release(ann: dict) -> Optional[str]:
    """``'2020'``, ``'v1'`` or ``None``: which release's field names ``ann`` uses."""
    for release, (amodal_key, visible_key) in KINS_FIELDS.items():
        if amodal_key in ann and visible_key in ann:
            return release
    return None


def convert_kins_annotation(ann: dict, img_info: dict, cat_ids, src_file: str,
                            log: SkipCounter) -> Tuple[dict, dict]:
    """One KINS annotation (either release): the canonical annotation with the same id and its
    parsed form."""
    release = kins_release(ann)
    if release is None:
        raise AmodalAnnotationError(
            src_file, img_info['id'], ann.get('id'),
            "neither KINS v1 fields ('segmentation', 'inmodal_seg') nor KINS 2020 fields "
            f"('a_segm', 'i_segm'); it has {sorted(ann)}")
    amodal_key, visible_key = KINS_FIELDS[release]
    raw = dict(id=ann.get('id'), category_id=ann.get('category_id'),
               iscrowd=ann.get('iscrowd', 0), segmentation=ann[amodal_key],
               visible_mask=ann[visible_key])
    ico_id = ann.get('ico_id')
    if release == '2020' and ico_id is not None and \
            (not isinstance(ico_id, int) or isinstance(ico_id, bool) or ico_id < 0):
        raise AmodalAnnotationError(src_file, img_info['id'], ann.get('id'),
                                    f"'ico_id' must be a non-negative integer, not {ico_id!r}")
    parsed = parse_source_annotation(raw, img_info, cat_ids, src_file, ann.get('id'))
    order = ico_id if release == '2020' and ico_id else None
    canonical = canonical_annotation(parsed, raw, log, src_file, ann.get('id'),
                                     segmentation=ann[amodal_key], order=order,
                                     **{key: ann.get(key) for key in KINS_PASSTHROUGH})
    return canonical, parsed


def convert_kins(src_file: str,
                 on_error: str = 'raise',
                 progress: bool = False) -> Tuple[dict, SkipCounter]:
    """Convert a KINS annotation file (v1 or 2020 field names) to the canonical format.

    Args:
        src_file (str): The KINS JSON file.
        on_error (str): ``'raise'`` stops at the first malformed annotation, ``'skip'`` leaves
            it out and counts it. Defaults to ``'raise'``.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        tuple: The canonical dataset (the file's images and categories, annotation ids kept,
        ``order`` / ``occluder_ids`` as in the module docstring) and the :class:`SkipCounter`
        of what was left out and of the stated values that disagree with the masks.
    """
    data = read_coco_json(src_file, required=('images', 'annotations', 'categories'))
    images = index_images(data['images'], src_file)
    cat_ids = {cat['id'] for cat in data['categories']}
    skipped = SkipCounter(on_error)
    annotations, ann_ids = [], set()
    by_image: Dict[int, List[Tuple[dict, dict]]] = defaultdict(list)
    for ann in track(data['annotations'], progress):
        try:
            img_info = annotation_image(ann, images, src_file)
            if ann.get('id') in ann_ids:
                raise AmodalAnnotationError(src_file, img_info['id'], ann.get('id'),
                                            'annotation id used twice')
            canonical, parsed = convert_kins_annotation(ann, img_info, cat_ids, src_file,
                                                        skipped)
        except AmodalAnnotationError as e:
            skipped.error(e)
            continue
        annotations.append(canonical)
        by_image[canonical['image_id']].append((canonical, parsed))
        ann_ids.add(ann['id'])
    for pairs in by_image.values():
        anns = [a for a, _ in pairs]
        clusters = [a.get('oco_id') for a in anns] if any('oco_id' in a for a in anns) \
            else None
        add_occluder_ids(anns, [p for _, p in pairs], skipped, src_file, clusters)
    dataset = dict(
        info=dict(description='KINS in the canonical amodal format (mmorcnn)',
                  source=osp.basename(src_file)),
        images=list(data['images']),
        annotations=annotations,
        categories=list(data['categories']))
    return record_disagreements(dataset, skipped), skipped
