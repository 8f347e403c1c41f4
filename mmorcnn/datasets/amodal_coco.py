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
                            load_amodal_coco)


@DATASETS.register_module()
class AmodalCocoDataset(CocoDataset):
    """Amodal instance segmentation dataset in the canonical format of DESIGN.md section 3.

    Annotations are read and validated by :func:`~mmorcnn.datasets.amodal_format.load_amodal_coco`.
    Each instance of a data info holds mmdet's keys (``bbox`` as ``[x1, y1, x2, y2]`` of the
    amodal mask, ``bbox_label``, ``ignore_flag`` for crowd annotations, ``mask`` = the amodal RLE)
    and ``visible_mask``, ``invisible_mask``, ``occlude_rate`` and ``ann_id``;
    ``LoadAmodalAnnotations`` turns them into ``gt_masks``.

    Unless the config sets ``metainfo=dict(classes=...)``, the classes are the file's categories
    in file order. Annotations of a category the file declares but ``classes`` leaves out are
    dropped, as in mmdet; a category id the file does not declare is an error.

    Args:
        on_error (str): ``'raise'`` (default) stops at the first bad annotation or missing image
            file with an :class:`AmodalAnnotationError` naming the file, image id, annotation id
            and problem; ``'skip'`` leaves bad annotations (and images whose file is missing)
            out, logs them and lists them in :attr:`skipped`.
        visible_tolerance (float): Share of a visible or invisible mask allowed outside the
            amodal mask. Defaults to ``DEFAULT_PART_TOLERANCE`` (5%).
        check_image_files (bool): Whether to check at load time that every image file exists.
            Defaults to True.
        **kwargs: Arguments of :class:`~mmdet.datasets.CocoDataset`.

    Attributes:
        skipped (list[tuple]): ``(image_id, ann_id, reason)`` for every annotation (``ann_id``
            ``None``: image) left out by ``on_error='skip'``.
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
        names_in_file = [cat['name'] for cat in coco.categories]
        self._metainfo.setdefault('classes', tuple(names_in_file))
        classes = self._metainfo['classes']
        unknown = [name for name in classes if name not in names_in_file]
        if unknown:
            raise ValueError(f'{self.ann_file}: the configured classes {unknown} are not among '
                             f"the file's categories {names_in_file}")
        label_of_name = {name: label for label, name in enumerate(classes)}
        self.cat2label = {cat['id']: label_of_name[cat['name']]
                          for cat in coco.categories if cat['name'] in label_of_name}
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
                ann_id=ann['id']))
        return dict(img_path=img_path, img_id=img_info['id'], seg_map_path=None,
                    height=img_info['height'], width=img_info['width'], instances=instances)
