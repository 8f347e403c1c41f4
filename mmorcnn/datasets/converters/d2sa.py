"""D2S amodal (paper 4.3): read, validate and, where needed, zero-pad the released files.

The release (``D2S_amodal_{training_rot0,augmented,validation}.json``) is flat, one annotation per
instance, with the fields: ``segmentation`` the amodal mask as RLE at the image's size (1440x1920,
or 1534x1920 for the images the release already zero-padded), ``visible_mask`` and optional
``invisible_mask`` (RLE), ``occlude_rate``, ``iscrowd`` as a JSON bool, ``occl_depth`` (int),
``amodal_region`` (``name``, ``area``, ``isStuff``, ``bbox``, ``order``: the COCOA region the
instance was annotated as) and ``amodal_base`` (``url``, ``image_id``, ``size``, ``author``,
``depth_constraint``: the COCOA-style image annotation). The converter keeps the stated masks and
rate (disagreements with the masks counted), writes ``iscrowd`` as 0/1, ``amodal_region.order``
as ``order``, ``isStuff`` as ``isstuff`` and ``name``, passes ``occl_depth`` through, puts
``amodal_base.depth_constraint`` into the image record and derives ``occluder_ids`` by the one
occlusion rule directed by the stated order (:func:`~.common.add_occluder_ids`).

Objects reaching out of the image are handled as the paper says: the image is zero-padded so that
every amodal mask lies inside it. RLE masks lie inside their image by construction; where a
file's amodal polygons leave their image, the converter pads that image by the overhang, writes
the padded copy to ``<img_dir>/<padded_dir>/<file_name>``, shifts the masks and records the
``padding`` in the image record. Several files (training rot0 + augmented = the paper's train
split) can be merged. When the input is one of the released splits (by file name),
:func:`table5_comparison` sets its statistics beside the paper's Table 5.
"""
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmorcnn.datasets.amodal_format import AmodalAnnotationError
from mmorcnn.datasets.statistics import PAPER_TABLE5, dataset_statistics, table5_rows
from mmorcnn.structures.mask_kinds import MASK_KINDS
from mmorcnn.structures.mask_utils import (MaskFormatError, is_number, mask_to_rle,
                                           polygon_parts, rle_to_mask, segm_to_rle)
from mmorcnn.utils.text_table import format_table
from .common import (SkipCounter, add_occluder_ids, annotation_image, canonical_annotation,
                     index_images, parse_source_annotation, read_coco_json,
                     record_disagreements, track)


#: ``(top, bottom, left, right)`` zero padding in pixels.
Padding = Tuple[int, int, int, int]

#: The released files, in a canonical order, and the Table 5 column of each combination.
RELEASED_FILES = ('D2S_amodal_training_rot0.json', 'D2S_amodal_augmented.json',
                  'D2S_amodal_validation.json')
TABLE5_SPLITS = {
    ('D2S_amodal_training_rot0.json', ): 'train rot0',
    ('D2S_amodal_augmented.json', ): 'aug',
    ('D2S_amodal_training_rot0.json', 'D2S_amodal_augmented.json'): 'train',
    ('D2S_amodal_validation.json', ): 'val',
}


def table5_split(src_files: Sequence[str]) -> Optional[str]:
    """The Table 5 column of the released split(s) ``src_files`` name, or None."""
    names = tuple(sorted((osp.basename(f) for f in src_files), key=lambda n: (
        RELEASED_FILES.index(n) if n in RELEASED_FILES else len(RELEASED_FILES), n)))
    return TABLE5_SPLITS.get(names)


def table5_comparison(src_files: Sequence[str], dataset: dict) -> Optional[str]:
    """Table 5's rows for ``dataset`` beside the paper's column of the same split, when
    ``src_files`` are a released split; None otherwise."""
    split = table5_split(src_files)
    if split is None:
        return None
    ours = table5_rows({split: dataset_statistics(dataset)})
    rows = [(*row, paper) for row, paper in zip(ours, PAPER_TABLE5[split])]
    return format_table(rows, header=('Table 5', f'{split} (this file)', f'{split} (paper)'))


def _source_fields(ann: dict) -> Tuple[dict, dict]:
    """A D2S amodal annotation in canonical field names, and what else it states (``order``,
    ``isstuff``, ``name`` from ``amodal_region``; ``occl_depth``). Values of the wrong type are
    left for the validator to report."""
    stated = dict(ann)
    if isinstance(stated.get('iscrowd'), bool):
        stated['iscrowd'] = int(stated['iscrowd'])
    for key in ('amodal_region', 'amodal_base', 'occl_depth'):
        stated.pop(key, None)
    region = ann.get('amodal_region')
    extra = dict(occl_depth=ann.get('occl_depth'))
    if isinstance(region, dict):
        extra.update(order=region.get('order'), isstuff=region.get('isStuff'),
                     name=region.get('name'))
    return stated, extra


def _check_extra(extra: dict, src_file: str, image_id, ann_id) -> dict:
    for key in ('order', 'occl_depth'):
        value = extra.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise AmodalAnnotationError(src_file, image_id, ann_id,
                                        f"'{key}' must be an integer, not {value!r}")
    if extra.get('isstuff') is not None:
        if extra['isstuff'] not in (0, 1):
            raise AmodalAnnotationError(src_file, image_id, ann_id,
                                        f"'amodal_region.isStuff' must be 0 or 1, not "
                                        f"{extra['isstuff']!r}")
        extra['isstuff'] = int(extra['isstuff'])
    if not isinstance(extra.get('name'), (str, type(None))):
        extra['name'] = None
    return extra


def _polygons(segm, height: int, width: int) -> List[np.ndarray]:
    """The polygons of a segmentation as ``(N, 2)`` arrays; nothing for RLEs or malformed
    polygons (NaN, far outside the image, ...: the validator reports those)."""
    if not isinstance(segm, list):
        return []
    try:
        parts, _ = polygon_parts(segm, height, width)
    except MaskFormatError:
        return []
    return [np.asarray(poly, dtype=np.float64).reshape(-1, 2) for poly in parts]


def amodal_overhang(anns: Sequence[dict], height: int, width: int) -> Padding:
    """How far the amodal polygons of an image's annotations reach beyond it, in whole pixels."""
    points = [p for ann in anns if isinstance(ann, dict)
              for p in _polygons(ann.get('segmentation'), height, width)]
    if not points:
        return (0, 0, 0, 0)
    xy = np.concatenate(points)
    (x_min, y_min), (x_max, y_max) = xy.min(0), xy.max(0)
    return (math.ceil(max(0., -y_min)), math.ceil(max(0., y_max - height)),
            math.ceil(max(0., -x_min)), math.ceil(max(0., x_max - width)))


def pad_segmentation(segm, padding: Padding, height: int, width: int):
    """``segm`` (polygons or RLE of a ``height x width`` image) in the padded image.

    A segmentation that cannot be decoded is returned unchanged for the validator to report.
    """
    top, bottom, left, right = padding
    if isinstance(segm, list):
        return [[v + (left if i % 2 == 0 else top) if is_number(v) else v
                 for i, v in enumerate(poly)]
                if isinstance(poly, list) else poly for poly in segm]
    try:
        mask = rle_to_mask(segm_to_rle(segm, height, width))
    except MaskFormatError:
        return segm
    return mask_to_rle(np.pad(mask, ((top, bottom), (left, right))))


def pad_image(img_info: dict, anns: List[dict], padding: Padding, img_dir: str,
              padded_dir: str, src_file: str) -> Tuple[dict, List[dict]]:
    """Write the zero-padded image and return its record and its annotations moved into it."""
    top, bottom, left, right = padding
    height, width = img_info['height'], img_info['width']
    src_path = osp.join(img_dir, img_info['file_name'])
    pixels = cv2.imread(src_path, cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise AmodalAnnotationError(src_file, img_info['id'], None,
                                    f'image file {src_path} is missing or unreadable; it is '
                                    'needed to zero-pad the image')
    if pixels.shape[:2] != (height, width):
        raise AmodalAnnotationError(src_file, img_info['id'], None,
                                    f'image file {src_path} is {pixels.shape[0]}x'
                                    f'{pixels.shape[1]}, its record says {height}x{width}')
    file_name = osp.join(padded_dir, img_info['file_name'])
    dst_path = osp.join(img_dir, file_name)
    os.makedirs(osp.dirname(dst_path), exist_ok=True)
    cv2.imwrite(dst_path, cv2.copyMakeBorder(pixels, top, bottom, left, right,
                                             cv2.BORDER_CONSTANT, value=0))
    padded_info = dict(img_info, file_name=file_name, height=height + top + bottom,
                       width=width + left + right,
                       padding=dict(top=top, bottom=bottom, left=left, right=right))
    padded_anns = [
        dict(ann, **{key: pad_segmentation(ann[key], padding, height, width)
                     for key in (kind.key for kind in MASK_KINDS) if key in ann})
        for ann in anns
    ]
    return padded_info, padded_anns


def convert_d2sa(src_files: Sequence[str],
                 img_dir: Optional[str] = None,
                 padded_dir: str = 'padded',
                 on_error: str = 'raise',
                 progress: bool = False) -> Tuple[dict, SkipCounter]:
    """Validate (and merge) D2S amodal files and zero-pad images whose amodal masks leave them.

    Args:
        src_files (Sequence[str]): One or more ``D2S_amodal_*.json``; several are merged (their
            categories must agree, image ids must be unique, annotation ids are renumbered).
        img_dir (str, optional): The D2S amodal image folder. Needed only when an image must be
            padded. Defaults to None.
        padded_dir (str): Sub-folder of ``img_dir`` for padded copies. Defaults to ``'padded'``.
        on_error (str): ``'raise'`` stops at the first malformed annotation, ``'skip'`` leaves
            it out and counts it. Defaults to ``'raise'``.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        tuple: The canonical dataset and the :class:`SkipCounter` (what was left out, stated
        values that disagree with the masks); the dataset's ``info`` lists the images padded
        here.
    """
    skipped = SkipCounter(on_error)
    images: List[dict] = []
    annotations: List[dict] = []
    categories: Optional[List[dict]] = None
    image_source: Dict[int, str] = {}
    padded: List[int] = []
    ann_ids = set()
    renumber = len(src_files) > 1
    for src_file in src_files:
        data = read_coco_json(src_file, required=('images', 'categories'))
        if categories is None:
            categories = data['categories']
        elif data['categories'] != categories:
            raise ValueError(f'{src_file}: its categories differ from those of {src_files[0]}; '
                             'only splits of one release can be merged')
        file_images = index_images(data['images'], src_file)
        for image_id in file_images:
            if image_id in image_source:
                raise AmodalAnnotationError(src_file, image_id, None,
                                            f'image id also used in {image_source[image_id]}')
            image_source[image_id] = src_file
        by_image: Dict[int, List[dict]] = {image_id: [] for image_id in file_images}
        for ann in data.get('annotations', []):
            try:
                by_image[annotation_image(ann, file_images, src_file)['id']].append(ann)
            except AmodalAnnotationError as e:
                skipped.error(e)
        cat_ids = [cat['id'] for cat in categories]
        for img_info in track(data['images'], progress):
            anns = by_image[img_info['id']]
            padding = amodal_overhang(anns, img_info['height'], img_info['width'])
            if any(padding):
                if img_dir is None:
                    raise AmodalAnnotationError(
                        src_file, img_info['id'], None,
                        f'amodal polygons reach {padding} (top, bottom, left, right) pixels '
                        'beyond the image; give the image folder so it can be zero-padded')
                img_info, anns = pad_image(img_info, anns, padding, img_dir, padded_dir,
                                           src_file)
                padded.append(img_info['id'])
            base = next((a['amodal_base'] for a in anns
                         if isinstance(a.get('amodal_base'), dict)), None)
            if base is not None and base.get('depth_constraint') is not None:
                img_info = dict(img_info, depth_constraint=base['depth_constraint'])
            images.append(img_info)
            converted = []
            for ann in anns:
                try:
                    if not renumber and ann.get('id') in ann_ids:
                        raise AmodalAnnotationError(src_file, img_info['id'], ann.get('id'),
                                                    'annotation id used twice')
                    stated, extra = _source_fields(ann)
                    extra = _check_extra(extra, src_file, img_info['id'], ann.get('id'))
                    parsed = parse_source_annotation(stated, img_info, cat_ids, src_file,
                                                     ann.get('id'))
                except AmodalAnnotationError as e:
                    skipped.error(e)
                    continue
                if renumber:
                    parsed['id'] = len(annotations) + 1
                ann_ids.add(parsed['id'])
                annotations.append(canonical_annotation(
                    parsed, stated, skipped, src_file, ann.get('id'),
                    segmentation=ann['segmentation'], **extra))
                converted.append((annotations[-1], parsed))
            add_occluder_ids([c for c, _ in converted], [p for _, p in converted], skipped,
                             src_file)
    dataset = dict(
        info=dict(description='D2S amodal in the canonical amodal format (mmorcnn)',
                  source=[osp.basename(f) for f in src_files], padded_image_ids=padded),
        images=images,
        annotations=annotations,
        categories=list(categories or []))
    return record_disagreements(dataset, skipped), skipped
