"""Occluder masks (LoadAmodalAnnotations(with_occluder=True)) through mmdet's transforms.

What occluder-aware heads learn from: per instance, the union of the visible masks of the
instances that hide part of it. Every check compares the packed ``gt_instances.occluder_masks``
with masks computed here independently: the union of the decoded visible RLEs, moved by the same
mmdet transform as a plain ``BitmapMasks``.
"""
import copy
import random
from unittest import mock

import numpy as np
import pytest
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks

from mmorcnn.structures.mask_utils import mask_to_rle, rle_to_mask
from mmorcnn.structures.occlusion_order import occluder_ids, rle_occluders
from .test_geometric_alignment import TRANSFORM_CFGS

LOAD = dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True, with_occluder=True)


def layered_instances(rng: np.random.Generator, num: int, height: int, width: int) -> list:
    """Random rectangles stacked in depth (the first in front) as AmodalCocoDataset gives them,
    ``occluder_ids`` by the one rule of the occlusion order."""
    amodal = np.zeros((num, height, width), np.uint8)
    for i in range(num):
        y1, x1 = int(rng.integers(0, height - 4)), int(rng.integers(0, width - 4))
        amodal[i, y1:y1 + int(rng.integers(3, height - y1 + 1)),
               x1:x1 + int(rng.integers(3, width - x1 + 1))] = 1
    visible = amodal.copy()
    for i in range(1, num):
        visible[i] &= 1 - amodal[:i].max(axis=0)
    invisible = amodal & (1 - visible)
    rles = [[mask_to_rle(m) for m in stack] for stack in (amodal, visible, invisible)]
    ann_ids = list(range(10, 10 + num))
    occluders = occluder_ids(ann_ids, rle_occluders(rles[1], rles[2]))
    instances = []
    for i in range(num):
        ys, xs = np.nonzero(amodal[i])
        instances.append(dict(
            bbox=[float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)],
            bbox_label=int(rng.integers(0, 3)), ignore_flag=int(rng.random() < 0.2),
            mask=rles[0][i], visible_mask=rles[1][i], invisible_mask=rles[2][i],
            ann_id=ann_ids[i], occluder_ids=occluders[i]))
    return instances


def expected_occluder_masks(instances: list, height: int, width: int) -> np.ndarray:
    """Union of the decoded visible RLEs of each instance's ``occluder_ids``."""
    visible = {inst['ann_id']: rle_to_mask(inst['visible_mask']) for inst in instances}
    out = np.zeros((len(instances), height, width), np.uint8)
    for i, inst in enumerate(instances):
        for occluder in inst['occluder_ids']:
            out[i] |= visible[occluder]
    return out


def start_results(instances: list, height: int, width: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return dict(img=rng.integers(0, 255, (height, width, 3), dtype=np.uint8),
                img_shape=(height, width), ori_shape=(height, width), height=height, width=width,
                img_id=seed, img_path=f'{seed}.png', instances=instances)


def run(cfgs: list, results: dict, seed: int) -> dict:
    for cfg in cfgs:
        np.random.seed(seed)
        random.seed(seed)
        results = TRANSFORMS.build(cfg)(results)
    return results


def packed_and_expected(transform_cfgs: list, instances: list, height: int, width: int,
                        seed: int):
    """``(sample, expected)``: the packed sample of LOAD + transforms + PackAmodalDetInputs, and
    the packed sample of mmdet's LoadAnnotations path on the independently computed occluder
    masks as a plain ``BitmapMasks`` (their ``masks`` are then the expected occluder masks)."""
    start = start_results(instances, height, width, seed)
    sample = run([LOAD, *transform_cfgs, dict(type='PackAmodalDetInputs')],
                 copy.deepcopy(start), seed)['data_samples']
    reference = run([dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True)],
                    copy.deepcopy(start), seed)
    reference['gt_masks'] = BitmapMasks(expected_occluder_masks(instances, height, width),
                                        height, width)
    reference = run([*transform_cfgs, dict(type='PackDetInputs')], reference, seed)
    return sample, reference['data_samples']


@pytest.mark.parametrize('cfg', TRANSFORM_CFGS)
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_packed_occluder_masks_are_the_transformed_union_of_visible_masks(cfg, seed):
    rng = np.random.default_rng(seed)
    height, width = (int(v) for v in rng.integers(20, 70, 2))
    instances = layered_instances(rng, int(rng.integers(2, 7)), height, width)
    assert any(inst['occluder_ids'] for inst in instances)
    sample, expected = packed_and_expected([cfg], instances, height, width, seed)
    for group in ('gt_instances', 'ignored_instances'):
        got, want = getattr(sample, group).occluder_masks, getattr(expected, group).masks
        assert type(got) is BitmapMasks
        assert len(got) == len(getattr(sample, group).masks)
        assert (got.height, got.width) == (want.height, want.width)
        np.testing.assert_array_equal(got.masks, want.masks, err_msg=group)


def test_a_chain_of_transforms_as_a_training_pipeline():
    chain = [dict(type='RandomResize', scale=[(60, 40), (120, 80)], keep_ratio=True),
             dict(type='RandomFlip', prob=1., direction='horizontal'),
             dict(type='RandomCrop', crop_size=(30, 30), allow_negative_crop=True),
             dict(type='FilterAnnotations', min_gt_bbox_wh=(4, 4)),
             dict(type='Pad', size_divisor=16)]
    for seed in range(4):
        rng = np.random.default_rng(50 + seed)
        instances = layered_instances(rng, 6, 40, 50)
        sample, expected = packed_and_expected(chain, instances, 40, 50, seed)
        np.testing.assert_array_equal(sample.gt_instances.occluder_masks.masks,
                                      expected.gt_instances.masks)


def two_instances(small_occluder: bool = True, ignore_front: int = 0) -> list:
    """A big instance at the back, hidden in part by a small one in front."""
    back = np.zeros((30, 40), np.uint8)
    back[5:25, 5:35] = 1
    front = np.zeros_like(back)
    front[10:13, 10:13] = 1 if small_occluder else 0
    if not small_occluder:
        front[8:20, 8:30] = 1
    rle = mask_to_rle
    return [dict(bbox=[5., 5., 35., 25.], bbox_label=0, ignore_flag=0, mask=rle(back),
                 visible_mask=rle(back & (1 - front)), invisible_mask=rle(back & front),
                 ann_id=1, occluder_ids=[2]),
            dict(bbox=[10., 10., 13., 13.] if small_occluder else [8., 8., 30., 20.],
                 bbox_label=1, ignore_flag=ignore_front, mask=rle(front), visible_mask=rle(front),
                 invisible_mask=rle(np.zeros_like(front)), ann_id=2, occluder_ids=[])]


def test_an_occluder_filtered_out_of_the_instances_still_counts():
    instances = two_instances(small_occluder=True)
    sample = run([LOAD, dict(type='FilterAnnotations', min_gt_bbox_wh=(5, 5)),
                  dict(type='PackAmodalDetInputs')],
                 start_results(instances, 30, 40, 0), 0)['data_samples']
    assert len(sample.gt_instances) == 1  # the small occluder is gone
    np.testing.assert_array_equal(sample.gt_instances.occluder_masks.masks[0],
                                  rle_to_mask(instances[1]['visible_mask']))


def test_an_ignored_occluder_counts_for_the_ground_truth_instances():
    instances = two_instances(small_occluder=False, ignore_front=1)
    sample = run([LOAD, dict(type='PackAmodalDetInputs')],
                 start_results(instances, 30, 40, 0), 0)['data_samples']
    assert len(sample.gt_instances) == len(sample.ignored_instances) == 1
    np.testing.assert_array_equal(sample.gt_instances.occluder_masks.masks[0],
                                  rle_to_mask(instances[1]['visible_mask']))
    assert not sample.ignored_instances.occluder_masks.masks.any()


class TestOccluderRules:

    def test_missing_occluder_ids_are_computed_by_the_one_rule(self):
        rng = np.random.default_rng(7)
        for _ in range(4):
            instances = layered_instances(rng, 5, 30, 30)
            given = run([LOAD], start_results(copy.deepcopy(instances), 30, 30, 0), 0)
            for inst in instances[::2]:
                inst['occluder_ids'] = None  # as AmodalCocoDataset passes a file without them
            computed = run([LOAD], start_results(instances, 30, 30, 0), 0)
            np.testing.assert_array_equal(computed['gt_masks'].occluders,
                                          given['gt_masks'].occluders)

    def test_box_iou_rule_takes_every_instance_whose_visible_box_overlaps(self):
        # the front instance hides the back one; their boxes overlap (IoU 0.16), so the looser
        # rule also makes the back instance an occluder of the front one
        instances = two_instances(small_occluder=False)
        load = {**LOAD, 'occluder_rule': 'box_iou'}
        masks = run([load], start_results(instances, 30, 40, 0), 0)['gt_masks']
        np.testing.assert_array_equal(masks.occluders, [[False, True], [True, False]])
        np.testing.assert_array_equal(masks.occluder.masks[1],
                                      rle_to_mask(instances[0]['visible_mask']))
        strict = run([{**load, 'box_iou_thr': 0.5}], start_results(instances, 30, 40, 0), 0)
        assert not strict['gt_masks'].occluders.any()
        canonical = run([LOAD], start_results(instances, 30, 40, 0), 0)['gt_masks']
        np.testing.assert_array_equal(canonical.occluders, [[False, True], [False, False]])

    def test_unknown_occluder_ids_add_nothing_and_are_counted(self):
        instances = two_instances()
        instances[0]['occluder_ids'] = [2, 99]
        load = TRANSFORMS.build(LOAD)
        with mock.patch('mmorcnn.datasets.transforms.loading.print_log') as log:
            masks = load(start_results(instances, 30, 40, 5))['gt_masks']
        np.testing.assert_array_equal(masks.occluders, [[False, True], [False, False]])
        assert load.num_unknown_occluders == 1
        logged = log.call_args.args[0]
        assert 'image 5 (5.png)' in logged and 'annotation 1 names 99' in logged

    def test_without_with_occluder_nothing_is_packed(self):
        sample = run([dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True),
                      dict(type='PackAmodalDetInputs')],
                     start_results(two_instances(), 30, 40, 0), 0)['data_samples']
        assert 'occluder_masks' not in sample.gt_instances

    def test_bad_settings_are_refused(self):
        with pytest.raises(ValueError, match='occluder_rule must be one of'):
            TRANSFORMS.build({**LOAD, 'occluder_rule': 'depth'})
        with pytest.raises(ValueError, match="target='amodal'"):
            TRANSFORMS.build({**LOAD, 'target': 'visible'})
