"""KINS (Qi et al. 2019) to the canonical amodal format; both releases are read.

* KINS v1 (``instances_{train,val}.json``): ``segmentation`` is the amodal polygon, ``bbox`` its
  box, ``inmodal_seg`` the visible mask (RLE) and ``inmodal_bbox`` its box.
* KINS 2020 (``update_{train,test}_2020.json``): ``a_segm`` / ``a_bbox`` amodal, ``i_segm`` /
  ``i_bbox`` visible (polygons), ``oco_id`` the occlusion cluster and ``ico_id`` the order in it.

The release's categories are kept; ``oco_id`` and ``ico_id`` are passed through. Amodal polygons
may reach outside the image (KINS annotates objects cut by the border); they are kept as they
are, while ``bbox`` and ``area`` describe the part inside the image.
"""
import os.path as osp
from typing import Dict, Optional, Tuple

from mmorcnn.datasets.amodal_format import AmodalAnnotationError
from .common import (SkipCounter, annotation_image, canonical_annotation, index_images,
                     parse_source_annotation, read_coco_json, track)

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


def convert_kins_annotation(ann: dict, img_info: dict, cat_ids, src_file: str) -> dict:
    """One KINS annotation (either release) as a canonical annotation with the same id."""
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
    parsed = parse_source_annotation(raw, img_info, cat_ids, src_file, ann.get('id'))
    return canonical_annotation(parsed, segmentation=ann[amodal_key],
                                **{key: ann.get(key) for key in KINS_PASSTHROUGH})


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
        tuple: The canonical dataset (the file's images and categories, annotation ids kept)
        and the :class:`SkipCounter` of what was left out.
    """
    data = read_coco_json(src_file, required=('images', 'annotations', 'categories'))
    images = index_images(data['images'], src_file)
    cat_ids = {cat['id'] for cat in data['categories']}
    skipped = SkipCounter(on_error)
    annotations, ann_ids = [], set()
    for ann in track(data['annotations'], progress):
        try:
            img_info = annotation_image(ann, images, src_file)
            if ann.get('id') in ann_ids:
                raise AmodalAnnotationError(src_file, img_info['id'], ann.get('id'),
                                            'annotation id used twice')
            annotations.append(convert_kins_annotation(ann, img_info, cat_ids, src_file))
            ann_ids.add(ann['id'])
        except AmodalAnnotationError as e:
            skipped.error(e)
    dataset = dict(
        info=dict(description='KINS in the canonical amodal format (mmorcnn)',
                  source=osp.basename(src_file)),
        images=list(data['images']),
        annotations=annotations,
        categories=list(data['categories']))
    return dataset, skipped
