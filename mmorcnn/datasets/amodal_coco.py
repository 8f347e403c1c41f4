"""COCO-style dataset of the canonical amodal format (D2S amodal, COCOA, COCOA cls, KINS, ...)."""
import logging
import os.path as osp
from collections import defaultdict
from typing import List, Optional

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.fileio import exists
from mmengine.logging import print_log

from .amodal_format import (DEFAULT_PART_TOLERANCE, AmodalAnnotationError, AmodalCoco,
                            category_ids_of_classes, load_amodal_coco)


@DATASETS.register_module()
class AmodalCocoDataset(CocoDataset):
    """Amodal instance segmentation dataset in the canonical format of docs/annotation_format.md.

    Annotations are read and validated by :func:`~mmorcnn.datasets.amodal_format.load_amodal_coco`.
    Each instance of a data info holds mmdet's keys (``bbox`` as ``[x1, y1, x2, y2]`` of the
    amodal mask, ``bbox_label``, ``ignore_flag`` for crowd annotations and ignored regions,
    ``mask`` = the amodal RLE)
    and ``visible_mask``, ``invisible_mask``, ``occlude_rate``, ``occluder_ids`` (``None`` when
    the file has none) and ``ann_id``;
    ``LoadAmodalAnnotations`` turns them into ``gt_masks``.

    Unless the config sets ``metainfo=dict(classes=...)``, the classes are the file's categories
    in file order. Annotations of a category the file declares but ``classes`` leaves out are
    dropped, as in mmdet; a category id the file does not declare is an error.

    Args:
        on_error (str): ``'raise'`` (default) stops at the first bad annotation or missing image
            file with an :class:`AmodalAnnotationError` naming the file, image id, annotation id
            and problem; ``'skip'`` turns a bad annotation into an ignored region (a crowd
            region, ``ignore_flag=1``; see :mod:`~mmorcnn.datasets.amodal_format`), leaves out
            images whose file is missing, logs both and lists them in :attr:`skipped`.
        visible_tolerance (float): Share of a visible or invisible mask allowed outside the
            amodal mask (it is clipped to it). Defaults to ``DEFAULT_PART_TOLERANCE`` (50%).
        check_image_files (bool): Whether to check at load time that every image file exists.
            Defaults to True.
        **kwargs: Arguments of :class:`~mmdet.datasets.CocoDataset`.

    Attributes:
        skipped (list[tuple]): ``(image_id, ann_id, reason)`` for every annotation that could
            not be used (an ignored region unless it had none, see
            :attr:`~mmorcnn.datasets.amodal_format.AmodalCoco.ignored`) and every image
            (``ann_id`` ``None``) left out by ``on_error='skip'``.
    """

    METAINFO: dict = dict()  # the classes come from the annotation file unless configured

    def __init__(self,
                 *args,
                 on_error: str = 'raise',
                 visible_tolerance: float = DEFAULT_PART_TOLERANCE,
                 check_image_files: bool = True,
                 **kwargs) -> None:
        self.on_error = on_error
        self.visible_tolerance = visible_tolerance
        self.check_image_files = check_image_files
        self.skipped: list = []
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Load and validate ``self.ann_file``; see the class docstring."""
        coco = load_amodal_coco(self.ann_file, on_error=self.on_error,
                                visible_tolerance=self.visible_tolerance,
                                backend_args=self.backend_args)
        self.skipped = list(coco.skipped)
        self._set_classes(coco)

        data_list = []
        for img_info in coco.images:
            data_info = self.parse_data_info(dict(
                raw_img_info=img_info, raw_ann_info=coco.anns_by_image[img_info['id']]))
            if data_info is not None:
                data_list.append(data_info)
        skipped_images = sum(ann_id is None for _, ann_id, _ in self.skipped)
        if skipped_images:
            print_log(f'{self.ann_file}: skipped {skipped_images} images whose file is missing',
                      logger='current', level=logging.WARNING)
        return data_list

    def _set_classes(self, coco: AmodalCoco) -> None:
        """Fill ``classes`` from the file when not configured; map category ids to labels."""
        self._metainfo.setdefault('classes', tuple(cat['name'] for cat in coco.categories))
        self.cat2label = {cat_id: label for label, cat_id in enumerate(
            category_ids_of_classes(coco.categories, self._metainfo['classes'], self.ann_file))}
        self.cat_ids = list(self.cat2label)
        self.cat_img_map = defaultdict(list)  # read by CocoDataset.filter_data
        for img_id, anns in coco.anns_by_image.items():
            for ann in anns:
                self.cat_img_map[ann['category_id']].append(img_id)

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        """Turn an image record and its parsed annotations into mmdet's data info.

        Returns ``None`` for an image whose file is missing when ``on_error='skip'``.
        """
        img_info = raw_data_info['raw_img_info']
        img_path = osp.join(self.data_prefix.get('img', ''), img_info['file_name'])
        if self.check_image_files and not exists(img_path, backend_args=self.backend_args):
            error = AmodalAnnotationError(self.ann_file, img_info['id'], None,
                                          f'image file {img_path} not found')
            if self.on_error == 'raise':
                raise error
            self.skipped.append((img_info['id'], None, error.reason))
            return None

        instances = []
        for ann in raw_data_info['raw_ann_info']:
            if ann['category_id'] not in self.cat2label:
                continue
            x, y, w, h = ann['bbox']
            instances.append(dict(
                bbox=[x, y, x + w, y + h],
                bbox_label=self.cat2label[ann['category_id']],
                ignore_flag=ann['iscrowd'],
                mask=ann['amodal'],
                visible_mask=ann['visible'],
                invisible_mask=ann['invisible'],
                occlude_rate=ann['occlude_rate'],
                occluder_ids=ann.get('occluder_ids'),
                ann_id=ann['id']))
        return dict(img_path=img_path, img_id=img_info['id'], seg_map_path=None,
                    height=img_info['height'], width=img_info['width'], instances=instances)
