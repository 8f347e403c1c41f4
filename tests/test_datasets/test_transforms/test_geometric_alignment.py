"""mmdet's geometric transforms, as configs use them, keep amodal / visible / invisible aligned.

``LoadAmodalAnnotations`` puts the three masks into one ``AmodalBitmapMasks``; these tests run
the stock mmdet transforms on it and check what a user relies on afterwards.
"""
import random

import numpy as np
import pytest
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks

TRANSFORM_CFGS = [
    pytest.param(dict(type='Resize', scale=(90, 60), keep_ratio=True), id='resize-up'),
    pytest.param(dict(type='Resize', scale=(33, 22), keep_ratio=True), id='resize-down'),
    pytest.param(dict(type='Resize', scale=(80, 30), keep_ratio=False), id='resize-stretch'),
    pytest.param(dict(type='RandomResize', scale=[(45, 30), (120, 80)], keep_ratio=True),
                 id='random-resize'),
    pytest.param(dict(type='RandomChoiceResize', scales=[(45, 30), (75, 50)], keep_ratio=True),
                 id='random-choice-resize'),
    pytest.param(dict(type='RandomFlip', prob=1., direction='horizontal'), id='flip-h'),
    pytest.param(dict(type='RandomFlip', prob=1., direction='vertical'), id='flip-v'),
    pytest.param(dict(type='RandomFlip', prob=1., direction='diagonal'), id='flip-d'),
    pytest.param(dict(type='Pad', size_divisor=32), id='pad-divisor'),
    pytest.param(dict(type='Pad', size=(64, 48)), id='pad-size'),
    pytest.param(dict(type='RandomCrop', crop_size=(28, 22), allow_negative_crop=True),
                 id='random-crop'),
    pytest.param(dict(type='RandomCrop', crop_size=(28, 22), allow_negative_crop=True,
                      recompute_bbox=True), id='random-crop-recompute'),
    pytest.param(dict(type='FilterAnnotations', min_gt_bbox_wh=(10, 10)), id='filter'),
    pytest.param(dict(type='Expand', mean=(0, 0, 0), ratio_range=(1, 2), prob=1.), id='expand'),
]


def seeded(transform, results: dict, seed: int) -> dict:
    np.random.seed(seed)
    random.seed(seed)
    return transform(results)


@pytest.mark.parametrize('cfg', TRANSFORM_CFGS)
@pytest.mark.parametrize('seed', [0, 1])
class TestGeometricTransformsKeepAmodalMasksAligned:

    def test_invisible_is_still_amodal_and_not_visible(self, cfg, seed, loaded_results):
        masks = seeded(TRANSFORMS.build(cfg), loaded_results(), seed)['gt_masks']
        assert len(masks) > 0
        np.testing.assert_array_equal(masks.invisible.masks,
                                      masks.masks & (1 - masks.visible.masks))

    def test_parts_move_exactly_as_their_amodal_masks(self, cfg, seed, loaded_results):
        """Visible and invisible masks end up where the transform puts a mask of that shape."""
        amodal_run = seeded(TRANSFORMS.build(cfg), loaded_results(), seed)
        for part in ('visible', 'invisible'):
            part_run = loaded_results()
            part_run['gt_masks'] = getattr(part_run['gt_masks'], part)  # a plain BitmapMasks
            part_run = seeded(TRANSFORMS.build(cfg), part_run, seed)
            assert type(part_run['gt_masks']) is BitmapMasks
            np.testing.assert_array_equal(getattr(amodal_run['gt_masks'], part).masks,
                                          part_run['gt_masks'].masks)

    def test_amodal_masks_match_boxes_and_image(self, cfg, seed, loaded_results):
        results = seeded(TRANSFORMS.build(cfg), loaded_results(), seed)
        masks = results['gt_masks']
        assert (masks.height, masks.width) == results['img'].shape[:2]
        assert len(masks) == len(results['gt_bboxes']) == len(results['gt_bboxes_labels']) \
            == len(results['gt_ignore_flags'])
        boxes_of_masks = masks.get_bboxes('hbox').numpy()
        # nearest-neighbour mask resizing moves a border by less than one output pixel
        np.testing.assert_allclose(boxes_of_masks, results['gt_bboxes'].numpy(), atol=1.)
