"""COCOA cls (paper 4.2): COCOA objects that take the category of a matching COCO 2014 instance.

A COCOA region is kept when it is not stuff and its visible mask has IoU above ``iou_thr``
(0.75 in the paper) with a non-crowd instance of the COCO 2014 annotations of the same image. The
matching is one-to-one: within an image the (COCOA object, COCO instance) pairs above the
threshold are taken greedily by descending IoU, each COCOA object and each COCO instance at most
once (ties: the earlier object, then the earlier instance), and a matched object takes its
instance's category. COCOA regions that lose their instance to a better-matching object, that
only match a crowd region, or that match nothing are dropped and counted by reason, and so are
the images left without objects. The authors released their own result as
``COCO_amodal_*2014_with_classes.json``, which ``cocoa2amodal.py`` reads as it is;
:data:`PAPER_COUNTS` holds the paper's totals to compare a re-derivation with.
"""
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Tuple

import numpy as np

from mmorcnn.datasets.amodal_format import AmodalAnnotationError
from mmorcnn.structures.mask_utils import MaskFormatError, rle_iou, segm_to_rle
from mmorcnn.utils.text_table import format_table
from .cocoa import convert_cocoa
from .common import SkipCounter, index_images, read_coco_json, track

#: The paper's threshold on the IoU of a COCOA visible mask and a COCO instance mask.
DEFAULT_IOU_THR = 0.75

#: Paper 4.2: "COCOA cls has 3,501 images with 10,592 objects compared to the 3,823 images and
#: 34,916 objects of COCOA", both the train and val splits together.
PAPER_COUNTS = dict(cocoa_cls=dict(images=3501, objects=10592),
                    cocoa=dict(images=3823, objects=34916))


def _coco_instances(anns: List[dict], img: dict, cat_ids: set, coco_file: str) -> List[dict]:
    """The COCO annotations of one image with their masks as RLEs."""
    instances = []
    for ann in anns:
        if ann.get('category_id') not in cat_ids:
            raise AmodalAnnotationError(coco_file, img['id'], ann.get('id'),
                                        f"unknown category id {ann.get('category_id')!r}")
        try:
            rle = segm_to_rle(ann.get('segmentation'), img['height'], img['width'])
        except MaskFormatError as e:
            raise AmodalAnnotationError(coco_file, img['id'], ann.get('id'), str(e)) from None
        instances.append(dict(ann, rle=rle, iscrowd=int(ann.get('iscrowd', 0))))
    return instances


def _visible_rle(ann: dict, img: dict) -> dict:
    if 'visible_mask' in ann:
        return ann['visible_mask']
    return segm_to_rle(ann['segmentation'], img['height'], img['width'])


def match_cocoa_to_coco(cocoa_anns: List[dict], img: dict, coco_instances: List[dict],
                        iou_thr: float, skipped: SkipCounter) -> List[dict]:
    """The COCOA annotations of one image matched one-to-one to COCO instances (module
    docstring), in their file order, with the instance's category.

    The matched instance's id and the IoU are kept as ``coco_id`` and ``coco_iou``.
    """
    things = [a for a in cocoa_anns if not a.get('isstuff')]
    skipped.skip('stuff regions', len(cocoa_anns) - len(things))
    if not things:
        return []
    ious = rle_iou([_visible_rle(a, img) for a in things], [c['rle'] for c in coco_instances])
    crowd = np.array([c['iscrowd'] for c in coco_instances], dtype=bool)
    thing_ious = np.where(crowd[None, :], -1., ious) if len(coco_instances) else ious
    rows, cols = np.nonzero(thing_ious > iou_thr)
    # greedy by descending IoU; ties by object, then instance (np.lexsort: last key first)
    match_of: Dict[int, int] = {}
    taken = set()
    for k in np.lexsort((cols, rows, -thing_ious[rows, cols])):
        row, col = int(rows[k]), int(cols[k])
        if row not in match_of and col not in taken:
            match_of[row] = col
            taken.add(col)
    matched = []
    for row, ann in enumerate(things):
        if row in match_of:
            coco = coco_instances[match_of[row]]
            matched.append(dict(ann, category_id=coco['category_id'], coco_id=coco.get('id'),
                                coco_iou=round(float(thing_ious[row, match_of[row]]), 4)))
        elif (thing_ious[row] > iou_thr).any():
            skipped.skip(f'matching only COCO instances taken by better-matching objects '
                         f'(IoU > {iou_thr})')
        elif len(coco_instances) and (ious[row][crowd] > iou_thr).any():
            skipped.skip(f'matching only a COCO crowd region (IoU > {iou_thr})')
        else:
            skipped.skip(f'low IoU (<= {iou_thr} with every COCO instance)')
    return matched


def paper_comparison(dataset: dict) -> str:
    """This conversion's counts beside the paper's (which are train + val together)."""
    info = dataset['info']
    rows = [('COCOA images', info['cocoa_images'], PAPER_COUNTS['cocoa']['images']),
            ('COCOA regions', info['cocoa_regions'], PAPER_COUNTS['cocoa']['objects']),
            ('COCOA cls images', len(dataset['images']), PAPER_COUNTS['cocoa_cls']['images']),
            ('COCOA cls objects', len(dataset['annotations']),
             PAPER_COUNTS['cocoa_cls']['objects'])]
    return format_table(rows, header=('', 'this split', 'paper 4.2 (train + val)'))


def convert_cocoa_cls(cocoa_file: str,
                      coco_file: str,
                      iou_thr: float = DEFAULT_IOU_THR,
                      keep_empty_images: bool = False,
                      on_error: str = 'raise',
                      progress: bool = False) -> Tuple[dict, SkipCounter]:
    """Build COCOA cls from a COCOA file and the COCO 2014 instances file of the same split.

    Args:
        cocoa_file (str): ``COCO_amodal_{train,val}2014.json`` (original ``regions`` shape; a
            flat file is read as well, see :func:`convert_cocoa`).
        coco_file (str): ``instances_{train,val}2014.json`` of COCO.
        iou_thr (float): A COCOA object is kept when the IoU of its visible mask with a COCO
            instance is above this. Defaults to 0.75.
        keep_empty_images (bool): Keep images without a matched object. Defaults to False.
        on_error (str): ``'raise'`` or ``'skip'`` for malformed annotations of either file.
            Defaults to ``'raise'``.
        progress (bool): Show progress bars. Defaults to False.

    Returns:
        tuple: The canonical dataset with COCO's categories (``info`` also holds the COCOA
        counts ``cocoa_images`` / ``cocoa_regions`` for :func:`paper_comparison`) and the
        :class:`SkipCounter` with the dropped stuff regions, lost, crowd-only and low-IoU
        matches and empty images.
    """
    cocoa, skipped = convert_cocoa(cocoa_file, on_error=on_error, progress=progress)
    coco = read_coco_json(coco_file, required=('images', 'annotations', 'categories'))
    coco_images = index_images(coco['images'], coco_file)
    cat_ids = {cat['id'] for cat in coco['categories']}
    cocoa_by_image: Dict[int, List[dict]] = defaultdict(list)
    for ann in cocoa['annotations']:
        cocoa_by_image[ann['image_id']].append(ann)
    coco_by_image: Dict[int, List[dict]] = defaultdict(list)
    for ann in coco['annotations']:
        if ann.get('image_id') in cocoa_by_image:
            coco_by_image[ann['image_id']].append(ann)

    images, annotations = [], []
    for img in track(cocoa['images'], progress):
        image_id = img['id']
        try:
            coco_img = coco_images.get(image_id)
            if coco_img is None:
                raise AmodalAnnotationError(coco_file, image_id, None,
                                            f'image of {osp.basename(cocoa_file)} is not in '
                                            'the COCO file')
            if (coco_img['height'], coco_img['width']) != (img['height'], img['width']):
                raise AmodalAnnotationError(
                    coco_file, image_id, None,
                    f"size {coco_img['height']}x{coco_img['width']} differs from COCOA's "
                    f"{img['height']}x{img['width']}")
            coco_instances = _coco_instances(coco_by_image[image_id], img, cat_ids, coco_file)
        except AmodalAnnotationError as e:
            skipped.error(e)
            continue
        matched = match_cocoa_to_coco(cocoa_by_image[image_id], img, coco_instances, iou_thr,
                                      skipped)
        kept_ids = {a['id'] for a in matched}
        for ann in matched:  # occluders that are no COCOA cls objects are not in the file
            if 'occluder_ids' in ann:
                ann['occluder_ids'] = [i for i in ann['occluder_ids'] if i in kept_ids]
        if matched or keep_empty_images:
            images.append(img)
            annotations.extend(matched)
        else:
            skipped.skip('images without a matched object')
    dataset = dict(
        info=dict(description='COCOA cls in the canonical amodal format (mmorcnn)',
                  source=[osp.basename(cocoa_file), osp.basename(coco_file)],
                  iou_thr=iou_thr, matching='one-to-one, greedy by IoU',
                  cocoa_images=len(cocoa['images']),
                  cocoa_regions=len(cocoa['annotations']),
                  disagreements=cocoa['info']['disagreements']),
        images=images,
        annotations=annotations,
        categories=list(coco['categories']))
    return dataset, skipped
