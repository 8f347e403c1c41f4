"""mmdet's geometric transforms, as configs use them, keep amodal / visible / invisible aligned.

``LoadAmodalAnnotations`` puts the three masks into one ``AmodalBitmapMasks``; these tests run
the stock mmdet transforms on it and check what a user relies on afterwards.
"""
import copy
import os.path as osp
import random

import numpy as np
import pytest
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config

from mmorcnn.structures.mask_utils import rle_to_mask
from .test_loading import random_instances

DATASET_CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', '_base_',
                           'datasets')

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


CONFIG_PIPELINES = [
    pytest.param(config, key, id=f'{config[:-3]}-{key}')
    for config in ('amodal_instance.py', 'synthetic_amodal.py')
    for key in ('train_pipeline', 'test_pipeline')
]


@pytest.mark.parametrize('config,key', CONFIG_PIPELINES)
def test_config_pipelines_give_the_masks_of_mmdet_transforms_on_each_stack(config, key):
    """What the configs train and test on is what mmdet's own transforms and PackDetInputs give
    for each of the amodal, visible and invisible stacks, on random scenes (both when the
    invisible masks are amodal AND NOT visible and when a file's differ)."""
    pipeline = [cfg for cfg in Config.fromfile(osp.join(DATASET_CONFIGS, config))[key]
                if cfg['type'] not in ('LoadImageFromFile', 'LoadNamedImageFromFile')]
    rng = np.random.default_rng(0)
    for scene in range(6):
        height, width = (int(v) for v in rng.integers(20, 90, 2))
        instances = random_instances(rng, int(rng.integers(1, 5)), height, width,
                                     carried_invisible=scene % 2 == 1)
        start = dict(img=rng.integers(0, 255, (height, width, 3), dtype=np.uint8),
                     img_shape=(height, width), ori_shape=(height, width), height=height,
                     width=width, img_id=scene, img_path=f'{scene}.png', instances=instances)
        sample = copy.deepcopy(start)
        for cfg in pipeline:
            sample = seeded(TRANSFORMS.build(cfg), sample, seed=scene)
        sample = sample['data_samples']
        for field, rle_key in (('masks', 'mask'), ('visible_masks', 'visible_mask'),
                               ('invisible_masks', 'invisible_mask')):
            expected = copy.deepcopy(start)
            for cfg in pipeline:
                if cfg['type'] == 'PackAmodalDetInputs':
                    cfg = {**cfg, 'type': 'PackDetInputs'}
                expected = seeded(TRANSFORMS.build(cfg), expected, seed=scene)
                if cfg['type'] == 'LoadAmodalAnnotations':  # one plain stack, as mmdet loads it
                    expected['gt_masks'] = BitmapMasks(
                        [rle_to_mask(inst[rle_key]) for inst in instances], height, width)
            expected = expected['data_samples']
            for group in ('gt_instances', 'ignored_instances'):
                got, want = getattr(sample, group)[field], getattr(expected, group).masks
                assert type(got) is BitmapMasks
                assert (got.height, got.width) == (want.height, want.width)
                np.testing.assert_array_equal(got.masks, want.masks, err_msg=f'{group}.{field}')
