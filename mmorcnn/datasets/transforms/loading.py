"""Loading of the amodal, visible and invisible masks of an image's instances."""
import logging

import numpy as np
from mmdet.datasets.transforms import LoadAnnotations
from mmdet.registry import TRANSFORMS
from mmengine.logging import print_log

from mmorcnn.structures.amodal_masks import AmodalBitmapMasks
from mmorcnn.structures.mask_utils import rle_is_and_not, rles_to_masks


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
        **kwargs: Arguments of mmdet's ``LoadAnnotations``. ``poly2mask`` must stay True:
            amodal masks are loaded as bitmaps only.
    """

    def __init__(self, target: str = 'amodal', **kwargs) -> None:
        super().__init__(**kwargs)
        if not self.poly2mask:
            raise ValueError('LoadAmodalAnnotations loads bitmap masks only (poly2mask=True)')
        if target not in ('amodal', 'visible'):
            raise ValueError(f"target must be 'amodal' or 'visible', got {target!r}")
        if target == 'visible' and not self.with_mask:
            raise ValueError("target='visible' derives the boxes from the visible masks and "
                             'needs with_mask=True')
        self.target = target
        #: Instances left out for an empty visible mask (``target='visible'``), in this process.
        self.num_empty_visible_dropped = 0

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
        results['gt_masks'] = AmodalBitmapMasks.from_arrays(
            decode('mask'), decode('visible_mask'), None if derived else decode('invisible_mask'))
