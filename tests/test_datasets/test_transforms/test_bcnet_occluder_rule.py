"""``LoadAmodalAnnotations(occluder_rule='bcnet')``: the occluder targets of the data preparation
of AISFormer (``detectron2/data/datasets/process_data_amodal.py``) and aistron
(``datasets/prepare_amodal_instances.py``), through mmdet's transforms.

The expected masks are computed here independently, by a transcription of their loop: for
instance i, every j != i whose box has an IoU > 0.05 with i's amodal box (their
``bb_intersection_over_union``, one added to every width and height), the sum of j's visible
masks times i's box mask ``[int(y1):int(y2), int(x1):int(x2)]``, capped at 1, kept when it has
more than 20 non-zero pixels. The same mmdet transforms then move these masks as a plain
``BitmapMasks``; the packed ``gt_instances.occluder_masks`` must equal them.
"""
import copy

import numpy as np
import pytest
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks

from mmorcnn.structures.mask_utils import mask_to_rle, rle_to_mask
from .test_geometric_alignment import TRANSFORM_CFGS
from .test_occluder_masks import LOAD, run, start_results

BCNET = {**LOAD, 'occluder_rule': 'bcnet'}


def their_iou(box_a, box_b) -> float:
    """``bb_intersection_over_union`` of their data preparation, transcribed."""
    x_a, y_a = max(box_a[0], box_b[0]), max(box_a[1], box_b[1])
    x_b, y_b = min(box_a[2], box_b[2]), min(box_a[3], box_b[3])
    inter = max(0, x_b - x_a + 1) * max(0, y_b - y_a + 1)
    area_a = (box_a[2] - box_a[0] + 1) * (box_a[3] - box_a[1] + 1)
    area_b = (box_b[2] - box_b[0] + 1) * (box_b[3] - box_b[1] + 1)
    return inter / float(area_a + area_b - inter)


def mask_box(mask: np.ndarray) -> list:
    """``[x1, y1, x2, y2]`` of a mask's pixels as COCO's ``bbox`` ``[x, y, x + w, y + h]``
    (``[0, 0, 0, 0]`` for an empty mask, which adds nothing to a union anyway)."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return [0., 0., 0., 0.]
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def their_occluder_masks(instances: list, height: int, width: int,
                         other_box: str = 'visible') -> np.ndarray:
    """The occluder masks by their loop (module docstring), at the annotation's size."""
    visible = [rle_to_mask(inst['visible_mask']).astype(int) for inst in instances]
    amodal_boxes = [inst['bbox'] for inst in instances]
    other_boxes = amodal_boxes if other_box == 'amodal' else [mask_box(m) for m in visible]
    out = np.zeros((len(instances), height, width), np.uint8)
    for i, a_box in enumerate(amodal_boxes):
        box_mask = np.zeros((height, width), dtype=int)
        box_mask[int(a_box[1]):int(a_box[3]), int(a_box[0]):int(a_box[2])] = 1
        union = np.zeros((height, width), dtype=int)
        for j, b_box in enumerate(other_boxes):
            if i != j and their_iou(a_box, b_box) > 0.05:
                union += np.multiply(box_mask, visible[j])
        union[union > 1] = 1
        if np.count_nonzero(union) > 20:
            out[i] = union
    return out


def packed_and_expected(load: dict, transform_cfgs: list, instances: list, height: int,
                        width: int, seed: int):
    """``(got, expected)`` occluder masks of the gt and the ignored instances after ``load``,
    the transforms and packing; expected: their masks moved by the same transforms."""
    start = start_results(instances, height, width, seed)
    sample = run([load, *transform_cfgs, dict(type='PackAmodalDetInputs')],
                 copy.deepcopy(start), seed)['data_samples']
    reference = run([dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True)],
                    copy.deepcopy(start), seed)
    reference['gt_masks'] = BitmapMasks(
        their_occluder_masks(instances, height, width, load.get('occluder_box', 'visible')),
        height, width)
    reference = run([*transform_cfgs, dict(type='PackDetInputs')], reference, seed)['data_samples']
    return ([sample.gt_instances.occluder_masks, sample.ignored_instances.occluder_masks],
            [reference.gt_instances.masks, reference.ignored_instances.masks])


def cut_instances(rng: np.random.Generator, num: int, height: int, width: int) -> list:
    """Random rectangles without a corner, stacked in depth (the first in front), as
    AmodalCocoDataset gives them. Without its corner an object leaves part of its box free, where
    the visible pixels of objects *behind* it can lie."""
    amodal = np.zeros((num, height, width), np.uint8)
    for i in range(num):
        h, w = (int(v) for v in rng.integers(4, [height // 2 + 5, width // 2 + 5]))
        y1, x1 = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        amodal[i, y1:y1 + h, x1:x1 + w] = 1
        cut_h, cut_w = int(rng.integers(1, h // 2 + 1)), int(rng.integers(1, w // 2 + 1))
        ys = slice(y1, y1 + cut_h) if rng.random() < 0.5 else slice(y1 + h - cut_h, y1 + h)
        xs = slice(x1, x1 + cut_w) if rng.random() < 0.5 else slice(x1 + w - cut_w, x1 + w)
        amodal[i, ys, xs] = 0
    visible = amodal.copy()
    for i in range(1, num):
        visible[i] &= 1 - amodal[:i].max(axis=0)
    instances = []
    for i in range(num):
        invisible = amodal[i] & (1 - visible[i])
        instances.append(dict(
            bbox=mask_box(amodal[i]), bbox_label=int(rng.integers(0, 3)),
            ignore_flag=int(rng.random() < 0.2), mask=mask_to_rle(amodal[i]),
            visible_mask=mask_to_rle(visible[i]), invisible_mask=mask_to_rle(invisible),
            ann_id=10 + i, occluder_ids=None))
    return instances


def scene(seed: int):
    rng = np.random.default_rng(100 + seed)
    height, width = (int(v) for v in rng.integers(30, 90, 2))
    return cut_instances(rng, int(rng.integers(4, 9)), height, width), height, width


@pytest.mark.parametrize('cfg', TRANSFORM_CFGS)
@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('other_box', ['visible', 'amodal'])
def test_their_occluder_masks_through_every_transform(cfg, seed, other_box):
    instances, height, width = scene(seed)
    got, want = packed_and_expected({**BCNET, 'occluder_box': other_box}, [cfg], instances,
                                    height, width, seed)
    for got_masks, want_masks in zip(got, want):
        assert type(got_masks) is BitmapMasks
        assert (got_masks.height, got_masks.width) == (want_masks.height, want_masks.width)
        np.testing.assert_array_equal(got_masks.masks, want_masks.masks)


def test_a_chain_of_transforms_as_the_authors_training_pipeline():
    chain = [dict(type='RandomChoiceResize', scales=[(90, 40), (90, 50), (90, 60)],
                  keep_ratio=True),
             dict(type='RandomFlip', prob=1., direction='horizontal'),
             dict(type='RandomCrop', crop_size=(35, 35), allow_negative_crop=True),
             dict(type='FilterAnnotations', min_gt_bbox_wh=(4, 4)),
             dict(type='Pad', size_divisor=16)]
    for seed in range(6):
        instances, height, width = scene(seed)
        got, want = packed_and_expected(BCNET, chain, instances, height, width, seed)
        np.testing.assert_array_equal(got[0].masks, want[0].masks)


def test_the_generated_scenes_exercise_every_part_of_the_rule():
    """Over the scenes of the tests above: objects behind i, pixels outside i's amodal box and
    unions of at most 20 pixels all occur, so each part of the rule is checked."""
    behind = clipped = small = 0
    for seed in range(3):
        instances, height, width = scene(seed)
        visible = [rle_to_mask(inst['visible_mask']) for inst in instances]
        expected = their_occluder_masks(instances, height, width)
        for i, inst in enumerate(instances):
            x1, y1, x2, y2 = (int(v) for v in inst['bbox'])
            # cut_instances puts instance 0 in front: j > i lies behind i
            behind += any((expected[i] & visible[j]).any() for j in range(i + 1, len(instances)))
            others = [j for j in range(len(instances)) if j != i
                      and their_iou(inst['bbox'], mask_box(visible[j])) > 0.05]
            union = np.zeros((height, width), np.uint8)
            for j in others:
                union |= visible[j]
            inside = union[y1:y2, x1:x2].sum()
            clipped += bool(union.sum() > inside and expected[i].any())
            small += bool(0 < inside <= 20)
    assert behind and clipped and small


def two_objects(size: int, cut: int) -> list:
    """A 30 x 30 object at the back, ``[5, 35)`` in x and y, and in front of its top left
    corner a ``size`` square at ``[3, 3 + size)`` without its bottom right ``cut`` square, in
    a 40 x 50 image."""
    back = np.zeros((40, 50), np.uint8)
    back[5:35, 5:35] = 1
    front = np.zeros_like(back)
    front[3:3 + size, 3:3 + size] = 1
    front[3 + size - cut:3 + size, 3 + size - cut:3 + size] = 0
    rle = mask_to_rle
    return [dict(bbox=[5., 5., 35., 35.], bbox_label=0, ignore_flag=0, mask=rle(back),
                 visible_mask=rle(back & (1 - front)), invisible_mask=rle(back & front),
                 ann_id=1, occluder_ids=[2]),
            dict(bbox=[3., 3., 3. + size, 3. + size], bbox_label=1, ignore_flag=0,
                 mask=rle(front), visible_mask=rle(front),
                 invisible_mask=rle(np.zeros_like(front)), ann_id=2, occluder_ids=[])]


def occluder_masks(size: int, cut: int, **options) -> np.ndarray:
    results = run([{**BCNET, **options}], start_results(two_objects(size, cut), 40, 50, 0), 0)
    return results['gt_masks'].occluder.masks


class TestTheRuleOnTwoObjects:
    """Box IoU of the two objects (theirs, +1): 0.049 for ``size=8``, 0.120 for 12, 0.142 for
    13 (the back object's visible box is its amodal box in every case)."""

    def test_the_union_is_clipped_to_the_amodal_box(self):
        masks = occluder_masks(12, 6)
        expected = np.zeros((40, 50), np.uint8)
        expected[5:15, 5:15] = 1  # the front object inside [5, 35), without its cut
        expected[9:15, 9:15] = 0
        np.testing.assert_array_equal(masks[0], expected)

    def test_the_object_behind_counts(self):
        # the back object's visible pixels inside the front object's box: its cut
        expected = np.zeros((40, 50), np.uint8)
        expected[9:15, 9:15] = 1
        np.testing.assert_array_equal(occluder_masks(12, 6)[1], expected)

    def test_at_most_20_pixels_are_no_occluder(self):
        assert occluder_masks(13, 10)[0].sum() == 21
        assert not occluder_masks(12, 9)[0].any()  # 19 pixels
        masks = occluder_masks(12, 4)
        assert masks[0].sum() == 84 and not masks[1].any()  # 16 pixels behind
        assert not occluder_masks(13, 10, min_occluder_pixels=22)[0].any()

    def test_boxes_of_iou_at_most_0_05_are_no_occluders(self):
        assert not occluder_masks(8, 1).any()  # IoU 0.049, 35 pixels of the back box hidden
        assert occluder_masks(8, 1, box_iou_thr=0.04)[0].sum() == 35

    def test_the_canonical_rule_counts_only_the_object_in_front_unclipped(self):
        instances = two_objects(12, 6)
        load = run([LOAD], start_results(instances, 40, 50, 0), 0)['gt_masks']
        np.testing.assert_array_equal(load.occluder.masks[0],
                                      rle_to_mask(instances[1]['visible_mask']))
        assert not load.occluder.masks[1].any()

    def test_bad_settings_are_refused(self):
        with pytest.raises(ValueError, match='occluder_box must be one of'):
            TRANSFORMS.build({**BCNET, 'occluder_box': 'modal'})
        with pytest.raises(ValueError, match='min_occluder_pixels'):
            TRANSFORMS.build({**BCNET, 'min_occluder_pixels': -1})
