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
from .image_check import describe_unreadable, unreadable_images


class EmptyDatasetError(AmodalAnnotationError):
    """A dataset left without images: the annotation file has none, or ``filter_cfg`` removed
    them all. The message names the file, the filter and what the file holds."""


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

    The ``metainfo`` also holds ``on_error`` and ``visible_tolerance``: mmengine's loops give it
    to the evaluator as ``dataset_meta``, and :class:`~mmorcnn.evaluation.AmodalCocoMetric`
    loads the ground truth with the same settings unless it is given its own, so that the
    dataset and the metric read the annotation file alike. (mmengine's ``ConcatDataset`` of
    datasets with different settings needs ``ignore_keys=['on_error', 'visible_tolerance']``.)

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
        check_images (bool): Whether to decode every image once at load time
            (:func:`~mmorcnn.datasets.image_check.unreadable_images`): with ``on_error='raise'``
            an unreadable image stops the loading with an :class:`AmodalAnnotationError` that
            lists every unreadable file with its image id; with ``'skip'`` those images are left
            out, logged and listed in :attr:`skipped`. Defaults to False (it reads every image).
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
                 check_images: bool = False,
                 **kwargs) -> None:
        self.on_error = on_error
        self.visible_tolerance = visible_tolerance
        self.check_image_files = check_image_files
        self.check_images = check_images
        self.skipped: list = []
        super().__init__(*args, **kwargs)
        self._metainfo.update(on_error=on_error, visible_tolerance=visible_tolerance)

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
        #: Images in the file (before ``filter_cfg``), for the message of an empty dataset.
        self.num_loaded_images = len(data_list)
        if self.check_images:
            data_list = self._drop_unreadable_images(data_list)
        return data_list

    def _drop_unreadable_images(self, data_list: List[dict]) -> List[dict]:
        """``check_images``: decode every image; raise or leave out the unreadable ones."""
        bad = unreadable_images([(d['img_id'], d['img_path']) for d in data_list],
                                self.backend_args)
        if not bad:
            return data_list
        if self.on_error == 'raise':
            raise AmodalAnnotationError(
                self.ann_file, None, None,
                f'{len(bad)} of {len(data_list)} images cannot be decoded: '
                f'{describe_unreadable(bad)} (leave them out with on_error=\'skip\')')
        self.skipped.extend((b.image_id, None, f'image file {b.img_path} {b.reason}')
                            for b in bad)
        print_log(f'{self.ann_file}: left out {len(bad)} images that cannot be decoded: '
                  f'{describe_unreadable(bad)}', logger='current', level=logging.WARNING)
        bad_ids = {b.image_id for b in bad}
        return [d for d in data_list if d['img_id'] not in bad_ids]

    def filter_data(self) -> List[dict]:
        """CocoDataset's ``filter_cfg`` filter; a dataset left without any image is an
        :class:`EmptyDatasetError` naming the file and the filter (instead of mmengine's
        ``need at least one array to concatenate`` when it packs the empty list)."""
        data_list = super().filter_data()
        if data_list:
            return data_list
        loaded = getattr(self, 'num_loaded_images', len(self.data_list))
        if not self.data_list:
            skipped = sum(ann_id is None for _, ann_id, _ in self.skipped)
            reason = (f'no images to {"test" if self.test_mode else "train"} on: the file lists '
                      f'{loaded + skipped} images' + (f', {skipped} of them skipped (on_error='
                                                      "'skip')" if skipped else ''))
        else:
            with_objects = sum(
                any(not inst['ignore_flag'] for inst in d['instances']) for d in self.data_list)
            reason = (f'filter_cfg={dict(self.filter_cfg)} leaves no image: of the '
                      f'{len(self.data_list)} images, {with_objects} have objects of the classes '
                      f'{list(self._metainfo["classes"])[:10]}; relax filter_cfg (e.g. '
                      'filter_empty_gt=False, a smaller min_size) or check the annotations')
        raise EmptyDatasetError(self.ann_file, None, None, reason)

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
