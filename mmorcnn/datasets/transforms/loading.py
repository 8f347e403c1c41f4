"""Loading of an image and of the amodal, visible and invisible masks of its instances."""
import logging
from typing import List, Optional

import numpy as np
import pycocotools.mask as maskUtils
from mmcv.transforms import LoadImageFromFile
from mmdet.datasets.transforms import LoadAnnotations
from mmdet.evaluation.functional import bbox_overlaps
from mmdet.registry import TRANSFORMS
from mmengine.logging import print_log

from mmorcnn.datasets.image_check import ImageReadError
from mmorcnn.structures.amodal_masks import AmodalBitmapMasks, union_of_masks
from mmorcnn.structures.mask_utils import bytes_rles, rle_is_and_not, rles_to_masks
from mmorcnn.structures.occlusion_order import rle_occluders

#: The rules that decide whose visible masks make up an instance's occluder mask.
OCCLUDER_RULES = ('occluder_ids', 'box_iou', 'bcnet')
#: Whose box of another instance the box rules compare with an instance's amodal box.
OCCLUDER_BOXES = ('visible', 'amodal')


def _pixel_count_iou(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``(N, M)`` IoUs of ``[x1, y1, x2, y2]`` boxes with one added to every width and height,
    in float64, as the data preparation of BCNet, AISFormer and aistron computes them
    (``bb_intersection_over_union``). mmdet's ``bbox_overlaps(use_legacy_coordinate=True)`` is
    the same formula in float32, which moves IoUs that equal the threshold across it."""
    left = np.maximum(boxes[:, None, :2], others[None, :, :2])
    right = np.minimum(boxes[:, None, 2:], others[None, :, 2:])
    inter = np.prod(np.maximum(right - left + 1, 0), axis=-1)
    area = np.prod(boxes[:, 2:] - boxes[:, :2] + 1, axis=-1)
    area_others = np.prod(others[:, 2:] - others[:, :2] + 1, axis=-1)
    return inter / (area[:, None] + area_others[None, :] - inter)


@TRANSFORMS.register_module()
class LoadNamedImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` whose failure names the file and the image id.

    An image that cannot be read or decoded raises an
    :class:`~mmorcnn.datasets.image_check.ImageReadError` (``'data/train/0003.png: image 3:
    cannot be decoded ...'``), also from inside a data loader worker, instead of mmcv's bare
    assertion or decoder error. With ``ignore_empty=True`` it returns None as mmcv's does (the
    dataset then draws another sample). ``AmodalCocoDataset(check_images=True)`` finds such
    files before training.

    Args: as :class:`mmcv.transforms.LoadImageFromFile`.
    """

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return super().transform(results)
        except Exception as e:  # unreadable file or undecodable bytes
            raise ImageReadError(results['img_path'], results.get('img_id'),
                                 f'cannot be loaded as an image ({type(e).__name__}: '
                                 f'{e})') from e


@TRANSFORMS.register_module()
class LoadAmodalAnnotations(LoadAnnotations):
    """Load boxes, labels and amodal masks with their visible and invisible parts.

    Reads the data info that :class:`~mmorcnn.datasets.AmodalCocoDataset` produces. Boxes
    (``gt_bboxes``) are the amodal boxes and labels are loaded as by mmdet's
    ``LoadAnnotations``; with ``with_mask=True``, ``gt_masks`` becomes an
    :class:`~mmorcnn.structures.amodal_masks.AmodalBitmapMasks`: the amodal masks, which every
    mmdet transform and model reads as its masks, carrying the visible and invisible masks so
    that every geometric transform moves the three together. ``PackAmodalDetInputs`` splits them
    into ``gt_instances.masks`` / ``.visible_masks`` / ``.invisible_masks``.

    Args:
        target (str): What the model learns as its instances. ``'amodal'`` (default): amodal
            boxes and masks (AmodalMRCNN, ORCNN). ``'visible'``: the visible masks and their
            boxes become ``gt_masks`` / ``gt_bboxes``, i.e. plain modal instance segmentation
            (the paper's MRCNN baseline); needs ``with_mask=True``. Instances whose visible mask
            is empty (fully occluded) have no modal target and are left out of the image's
            targets; they are counted in ``num_empty_visible_dropped`` and logged (the first
            one as a warning, the others at debug level).
        with_occluder (bool): Also give every instance its occluder mask, the ground truth of
            occluder-aware mask heads (BCNet, AISFormer): the union of the visible masks of the
            instances that hide part of it, all zero for an instance nothing hides. The masks
            follow every transform with the others (derived from the visible masks where that
            is exact, see :mod:`~mmorcnn.structures.amodal_masks`), also when occluders are
            filtered or cropped out of the instances, and ``PackAmodalDetInputs`` packs them as
            ``gt_instances.occluder_masks`` (a ``BitmapMasks`` in the order of
            ``gt_instances.masks``). Needs ``with_mask=True`` and ``target='amodal'``. Defaults
            to False (ORCNN's pipeline does not pay for them).
        occluder_rule (str): Who hides an instance (``with_occluder=True``).
            ``'occluder_ids'`` (default): the annotation's ``occluder_ids``, the one occlusion
            rule of :mod:`~mmorcnn.structures.occlusion_order` (the canonical format's field);
            an instance without ``occluder_ids`` gets them computed here by that rule from the
            image's visible and invisible masks. An occluder id that is no instance of the image
            (e.g. of a category the dataset's ``classes`` leave out) adds nothing; such ids are
            counted in ``num_unknown_occluders`` and logged. ``'box_iou'``: a looser rule
            after BCNet's data preparation: every other instance whose box (``occluder_box``)
            has an IoU above ``box_iou_thr`` with this instance's amodal box.
            ``'bcnet'``: that data preparation as AISFormer (``process_data_amodal.py``) and
            aistron (``datasets/prepare_amodal_instances.py``) run it: the IoU counted in
            whole pixels as theirs (one added to every width and height), the union of
            the visible masks clipped to this instance's amodal box (its corners truncated
            to integers, as theirs), and left empty when it has fewer than
            ``min_occluder_pixels`` pixels. It counts instances
            that lie *behind* this one too (an overlap of boxes says nothing about depth).
            The masks of ``'bcnet'`` are built once, at the image's original size, and
            carried through the transforms as a stack of their own, so that the clipping and
            the pixel count are those of the annotation, whatever the transforms do later.
        box_iou_thr (float): IoU threshold of the box rules. Defaults to 0.05.
        occluder_box (str): The box rules' box of the other instances: ``'visible'``
            (default), the box of its visible mask; ``'amodal'``, its amodal box (what aistron
            compares on D2S amodal and COCOA, whose releases state amodal boxes only:
            ``prepare_d2sa.py`` and ``prepare_cocoa.py`` set ``visible_bbox`` to ``bbox``).
        min_occluder_pixels (int): ``occluder_rule='bcnet'``: an occluder mask with fewer
            pixels is left empty. Defaults to 21 (theirs keep masks of more than 20 pixels).
        **kwargs: Arguments of mmdet's ``LoadAnnotations``. ``poly2mask`` must stay True:
            amodal masks are loaded as bitmaps only.

    Example:
        The training pipeline of a model whose mask head learns occluder masks::

            dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True,
                 with_occluder=True)                       # or occluder_rule='bcnet'
            ...                                            # mmdet's geometric transforms
            dict(type='PackAmodalDetInputs')               # gt_instances.occluder_masks
    """

    def __init__(self,
                 target: str = 'amodal',
                 with_occluder: bool = False,
                 occluder_rule: str = 'occluder_ids',
                 box_iou_thr: float = 0.05,
                 occluder_box: str = 'visible',
                 min_occluder_pixels: int = 21,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not self.poly2mask:
            raise ValueError('LoadAmodalAnnotations loads bitmap masks only (poly2mask=True)')
        if target not in ('amodal', 'visible'):
            raise ValueError(f"target must be 'amodal' or 'visible', got {target!r}")
        if target == 'visible' and not self.with_mask:
            raise ValueError("target='visible' derives the boxes from the visible masks and "
                             'needs with_mask=True')
        if occluder_rule not in OCCLUDER_RULES:
            raise ValueError(f'occluder_rule must be one of {OCCLUDER_RULES}, got '
                             f'{occluder_rule!r}')
        if occluder_box not in OCCLUDER_BOXES:
            raise ValueError(f'occluder_box must be one of {OCCLUDER_BOXES}, got '
                             f'{occluder_box!r}')
        if not isinstance(min_occluder_pixels, int) or min_occluder_pixels < 0:
            raise ValueError('min_occluder_pixels must be a non-negative int, got '
                             f'{min_occluder_pixels!r}')
        if with_occluder and (target != 'amodal' or not self.with_mask):
            raise ValueError("with_occluder=True needs with_mask=True and target='amodal'")
        self.target = target
        self.with_occluder = with_occluder
        self.occluder_rule = occluder_rule
        self.box_iou_thr = box_iou_thr
        self.occluder_box = occluder_box
        self.min_occluder_pixels = min_occluder_pixels
        #: Instances left out for an empty visible mask (``target='visible'``), in this process.
        self.num_empty_visible_dropped = 0
        #: ``occluder_ids`` that named no instance of their image, in this process.
        self.num_unknown_occluders = 0

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        if self.target == 'visible':
            self._use_visible_as_target(results)
        return results

    def _use_visible_as_target(self, results: dict) -> None:
        """Make the visible masks (and their boxes) the instances' masks and boxes."""
        masks = results['gt_masks']
        visible = masks.visible.masks
        keep = visible.reshape(len(visible), -1).any(axis=1)
        if not keep.all():
            self._drop_empty_visible(results, keep)
            visible = visible[keep]
        # no invisible part: visible AND NOT visible, derived (nothing to carry)
        results['gt_masks'] = AmodalBitmapMasks(visible, masks.height, masks.width, visible)
        if 'gt_bboxes' in results:
            boxes = results['gt_masks'].get_bboxes(dst_type='hbox')
            results['gt_bboxes'] = boxes if self.box_type else boxes.numpy()

    def _drop_empty_visible(self, results: dict, keep: np.ndarray) -> None:
        """Leave the instances without visible pixels out of the per-instance targets."""
        for key in ('gt_bboxes_labels', 'gt_ignore_flags'):
            if key in results:
                results[key] = results[key][keep]
        dropped = int((~keep).sum())
        self.num_empty_visible_dropped += dropped
        first = self.num_empty_visible_dropped == dropped
        print_log(
            f"image {results.get('img_id')} ({results.get('img_path')}): {dropped} instance(s) "
            "with an empty visible mask left out of the visible (MRCNN) targets; "
            f'{self.num_empty_visible_dropped} so far' +
            (' (further ones are logged at debug level)' if first else ''),
            logger='current', level=logging.WARNING if first else logging.DEBUG)

    def _load_masks(self, results: dict) -> None:
        """Decode the three RLEs of every instance into ``results['gt_masks']``."""
        height, width = results['height'], results['width']
        if 'ori_shape' in results and tuple(results['ori_shape']) != (height, width):
            raise ValueError(
                f"image {results.get('img_id')} ({results.get('img_path')}) is "
                f"{results['ori_shape'][0]}x{results['ori_shape'][1]} pixels but its "
                f'annotations are for {height}x{width}')
        instances = results.get('instances', [])

        def decode(key: str) -> np.ndarray:
            return rles_to_masks([instance[key] for instance in instances], height, width)

        # Each RLE is decoded once, straight into its stack. Where every invisible mask is
        # amodal AND NOT visible (checked on the RLEs), the invisible stack is not decoded at
        # all: AmodalBitmapMasks derives it after the transforms (exact, see its docstring).
        derived = all(
            rle_is_and_not(instance['invisible_mask'], instance['mask'], instance['visible_mask'])
            for instance in instances)
        visible = decode('visible_mask')
        occluder, occluders = None, None
        if self.with_occluder and self.occluder_rule == 'bcnet':
            occluder = self._bcnet_occluder_masks(results, visible)
        elif self.with_occluder:
            occluders = self._occluders(results)
        results['gt_masks'] = AmodalBitmapMasks.from_arrays(
            decode('mask'), visible, None if derived else decode('invisible_mask'),
            occluder=occluder, occluders=occluders)

    def _box_overlaps(self, results: dict, legacy: bool) -> np.ndarray:
        """``(N, N)`` bool, ``[i, j]``: j is no instance i and its box (``occluder_box``) has an
        IoU above ``box_iou_thr`` with instance i's amodal box."""
        instances = results.get('instances', [])
        num = len(instances)
        boxes = np.array([inst['bbox'] for inst in instances], np.float64).reshape(num, 4)
        if self.occluder_box == 'amodal':
            others = boxes
        else:
            others = maskUtils.toBbox(bytes_rles([inst['visible_mask'] for inst in instances])
                                      ) if num else np.zeros((0, 4))
            others = np.asarray(others, np.float64).reshape(num, 4)
            others[:, 2:] += others[:, :2]
        if legacy:
            relation = _pixel_count_iou(boxes, others) > self.box_iou_thr
        else:
            relation = bbox_overlaps(boxes, others) > self.box_iou_thr
        np.fill_diagonal(relation, False)
        return relation

    def _bcnet_occluder_masks(self, results: dict, visible: np.ndarray) -> np.ndarray:
        """``(N, H, W)`` occluder masks by ``occluder_rule='bcnet'`` (see the class docstring),
        from the decoded visible masks."""
        union = union_of_masks(self._box_overlaps(results, legacy=True), visible)
        clipped = np.zeros_like(union)
        for i, inst in enumerate(results.get('instances', [])):
            x1, y1, x2, y2 = (max(int(v), 0) for v in inst['bbox'])  # int(): theirs truncate
            inside = union[i, y1:y2, x1:x2]
            if np.count_nonzero(inside) >= self.min_occluder_pixels:
                clipped[i, y1:y2, x1:x2] = inside
        return clipped

    def _occluders(self, results: dict) -> np.ndarray:
        """``(N, N)`` bool, ``[i, j]``: instance j hides part of instance i, by
        ``self.occluder_rule``."""
        instances = results.get('instances', [])
        num = len(instances)
        if self.occluder_rule == 'box_iou':
            return self._box_overlaps(results, legacy=False)
        relation = np.zeros((num, num), bool)
        missing = [i for i, inst in enumerate(instances) if inst.get('occluder_ids') is None]
        if missing:  # the one rule, on the RLEs of the image
            computed = rle_occluders([inst['visible_mask'] for inst in instances],
                                     [inst['invisible_mask'] for inst in instances])
            relation[missing] = computed[missing]
        position = {inst.get('ann_id'): i for i, inst in enumerate(instances)}
        unknown: List[tuple] = []
        for i, inst in enumerate(instances):
            for occluder in inst.get('occluder_ids') or ():
                if occluder in position and position[occluder] != i:
                    relation[i, position[occluder]] = True
                else:
                    unknown.append((inst.get('ann_id'), occluder))
        if unknown:
            self._log_unknown_occluders(results, unknown)
        return relation

    def _log_unknown_occluders(self, results: dict, unknown: List[tuple]) -> None:
        self.num_unknown_occluders += len(unknown)
        first = self.num_unknown_occluders == len(unknown)
        listed = ', '.join(f'annotation {ann} names {occ}' for ann, occ in unknown)
        print_log(
            f"image {results.get('img_id')} ({results.get('img_path')}): occluder_ids that are "
            f'no other instance of the image ({listed}) add nothing to the occluder masks; '
            f'{self.num_unknown_occluders} so far' +
            (' (further ones are logged at debug level)' if first else ''),
            logger='current', level=logging.WARNING if first else logging.DEBUG)
