"""Packing of amodal ground truth into mmdet's data samples."""
import numpy as np
from mmdet.datasets.transforms import PackDetInputs
from mmdet.registry import TRANSFORMS

from mmorcnn.structures.amodal_masks import AmodalBitmapMasks


@TRANSFORMS.register_module()
class PackAmodalDetInputs(PackDetInputs):
    """mmdet's ``PackDetInputs`` that also packs the visible and invisible masks.

    ``gt_instances.masks`` holds the amodal masks (so mmdet code that reads only ``masks`` --
    mask targets, the data preprocessor, visualizers -- works on them), ``.visible_masks`` and
    ``.invisible_masks`` their parts, all as ``BitmapMasks``. Instances flagged in
    ``gt_ignore_flags`` go to ``ignored_instances`` with their three masks, as mmdet splits them.

    Args:
        meta_keys (Sequence[str]): As in mmdet's ``PackDetInputs``.

    Raises:
        TypeError: ``gt_masks`` is not an ``AmodalBitmapMasks`` any more: a transform built new
            masks from scratch and dropped the visible and invisible masks.
    """

    def transform(self, results: dict) -> dict:
        masks = results.get('gt_masks')
        if masks is None:
            return super().transform(results)
        if not isinstance(masks, AmodalBitmapMasks):
            raise TypeError(
                f'gt_masks is a {type(masks).__name__}, not the AmodalBitmapMasks that '
                'LoadAmodalAnnotations makes: a transform in the pipeline replaced it and lost '
                'the visible and invisible masks; use transforms that only resize, flip, pad, '
                'crop, filter or warp masks')
        packed = super().transform({**results, 'gt_masks': masks.amodal})
        sample = packed['data_samples']
        if 'gt_ignore_flags' in results:
            ignore = np.asarray(results['gt_ignore_flags'], dtype=bool)
            groups = ((sample.gt_instances, np.where(~ignore)[0]),
                      (sample.ignored_instances, np.where(ignore)[0]))
        else:
            groups = ((sample.gt_instances, np.arange(len(masks))), )
        for instances, index in groups:
            instances.visible_masks = masks.visible[index]
            instances.invisible_masks = masks.invisible[index]
        return packed
