"""Packing of amodal ground truth into mmdet's data samples."""
import numpy as np
from mmdet.datasets.transforms import PackDetInputs
from mmdet.registry import TRANSFORMS

from mmorcnn.structures.amodal_masks import AmodalBitmapMasks, wrap_bitmap_masks


@TRANSFORMS.register_module()
class PackAmodalDetInputs(PackDetInputs):
    """mmdet's ``PackDetInputs`` that also packs the visible and invisible masks.

    ``gt_instances.masks`` holds the amodal masks (so mmdet code that reads only ``masks`` --
    mask targets, the data preprocessor, visualizers -- works on them), ``.visible_masks`` and
    ``.invisible_masks`` their parts, all as ``BitmapMasks``; with occluder masks
    (``LoadAmodalAnnotations(with_occluder=True)``) also ``.occluder_masks``, the union of the
    visible masks of the instances that hide part of each one (its occluders may be ignored
    instances). Instances flagged in ``gt_ignore_flags`` go to ``ignored_instances`` with their
    masks, as mmdet splits them.

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
        # mmdet packs everything else; the three kinds of masks are split here with mmdet's
        # indices, without copying them when no instance is ignored.
        packed = super().transform({key: value for key, value in results.items()
                                    if key != 'gt_masks'})
        sample = packed['data_samples']
        if 'gt_ignore_flags' in results:
            flags = results['gt_ignore_flags']
            groups = ((sample.gt_instances, np.where(flags == 0)[0]),
                      (sample.ignored_instances, np.where(flags == 1)[0]))
        else:
            groups = ((sample.gt_instances, None), )
        for instances, index in groups:
            everything = index is None or np.array_equal(index, np.arange(len(masks)))
            part = masks if everything else masks[index]
            instances.masks = wrap_bitmap_masks(part.masks, part.height, part.width)
            instances.visible_masks = part.visible
            instances.invisible_masks = part.invisible
            if part.with_occluder:
                instances.occluder_masks = part.occluder
        return packed
