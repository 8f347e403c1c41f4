import numpy as np
import pytest
from mmdet.registry import TRANSFORMS

from mmorcnn.structures.amodal_masks import AmodalBitmapMasks
from mmorcnn.structures.mask_utils import mask_to_rle, rle_to_mask


class TestLoadAmodalAnnotations:

    def test_gt_masks_hold_amodal_visible_and_invisible_masks(self, loaded_results, scene):
        results = loaded_results()
        masks = results['gt_masks']
        assert isinstance(masks, AmodalBitmapMasks)
        for i, ann_id in enumerate((1, 2, 3)):
            np.testing.assert_array_equal(masks.masks[i], scene[ann_id]['amodal'])
            np.testing.assert_array_equal(masks.visible.masks[i], scene[ann_id]['visible'])
            np.testing.assert_array_equal(masks.invisible.masks[i], scene[ann_id]['invisible'])

    def test_boxes_are_amodal_boxes_and_crowds_are_ignored(self, loaded_results):
        results = loaded_results()
        np.testing.assert_array_equal(results['gt_bboxes'].numpy(),
                                      [[5, 5, 30, 25], [20, 15, 50, 35], [2, 30, 11, 38]])
        np.testing.assert_array_equal(results['gt_ignore_flags'], [False, False, True])
        np.testing.assert_array_equal(results['gt_bboxes_labels'], [0, 1, 0])

    def test_image_of_another_size_than_annotated_is_an_error(self):
        load = TRANSFORMS.build(dict(type='LoadAmodalAnnotations', with_mask=True))
        results = dict(img_id=1, img_path='images/scene.png', height=40, width=60,
                       ori_shape=(40, 61), instances=[])
        with pytest.raises(ValueError, match=r'image 1 \(.*scene.png\) is 40x61 pixels but its '
                                             r'annotations are for 40x60'):
            load(results)

    def test_polygon_masks_are_refused(self):
        with pytest.raises(ValueError, match='bitmap masks only'):
            TRANSFORMS.build(dict(type='LoadAmodalAnnotations', with_mask=True, poly2mask=False))


class TestLoadVisibleTarget:
    """target='visible' turns the data into modal instance segmentation (the MRCNN baseline)."""

    def test_masks_and_boxes_become_the_visible_ones(self, loaded_results, scene):
        amodal = loaded_results()
        load = TRANSFORMS.build(
            dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True, target='visible'))
        results = amodal.copy()
        load._use_visible_as_target(results)
        for i, ann_id in enumerate((1, 2, 3)):
            visible = scene[ann_id]['visible']
            np.testing.assert_array_equal(results['gt_masks'].masks[i], visible)
            np.testing.assert_array_equal(results['gt_masks'].visible.masks[i], visible)
            assert not results['gt_masks'].invisible.masks[i].any()
            ys, xs = np.nonzero(visible)
            np.testing.assert_array_equal(results['gt_bboxes'].numpy()[i],
                                          [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        # an occluded instance really changed: its visible box is smaller than its amodal box
        assert (results['gt_masks'].areas < amodal['gt_masks'].areas).any()

    def test_fully_occluded_instances_are_left_out_and_counted(self, loaded_results):
        results = loaded_results()
        masks = results['gt_masks']
        visible = masks.visible.masks.copy()
        visible[0] = 0  # instance 1 (box, occluded) is now hidden completely
        results['gt_masks'] = AmodalBitmapMasks(masks.masks, masks.height, masks.width, visible,
                                                masks.masks & (1 - visible))
        load = TRANSFORMS.build(
            dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True, target='visible'))
        load._use_visible_as_target(results)
        assert len(results['gt_masks']) == 2 and results['gt_bboxes'].numpy().shape == (2, 4)
        np.testing.assert_array_equal(results['gt_bboxes_labels'], [1, 0])
        np.testing.assert_array_equal(results['gt_ignore_flags'], [False, True])
        assert results['gt_masks'].masks.reshape(2, -1).any(axis=1).all()  # no empty target
        assert load.num_empty_visible_dropped == 1

    def test_unknown_target_and_visible_without_masks_are_refused(self):
        with pytest.raises(ValueError, match="'amodal' or 'visible'"):
            TRANSFORMS.build(dict(type='LoadAmodalAnnotations', with_mask=True, target='modal'))
        with pytest.raises(ValueError, match='with_mask=True'):
            TRANSFORMS.build(dict(type='LoadAmodalAnnotations', with_mask=False, target='visible'))


def random_instances(rng: np.random.Generator, num: int, height: int, width: int,
                     carried_invisible: bool = False) -> list:
    """Instances as AmodalCocoDataset gives them, with random amodal / visible RLEs; the
    invisible RLE is amodal AND NOT visible unless ``carried_invisible`` (then, as a file may
    have it, a few pixels differ)."""
    instances = []
    for i in range(num):
        amodal = (rng.random((height, width)) > 0.4).astype(np.uint8)
        visible = amodal & (rng.random((height, width)) > 0.5)
        invisible = amodal & (1 - visible)
        if carried_invisible and i == num - 1:
            invisible[rng.integers(0, height), rng.integers(0, width)] ^= 1
        ys, xs = np.nonzero(amodal)
        instances.append(dict(
            bbox=[float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)],
            bbox_label=int(rng.integers(0, 3)), ignore_flag=int(rng.random() < 0.2),
            mask=mask_to_rle(amodal), visible_mask=mask_to_rle(visible),
            invisible_mask=mask_to_rle(invisible)))
    return instances


class TestLoadingDecodesEveryRle:

    @pytest.mark.parametrize('carried', [False, True], ids=['derived', 'carried'])
    def test_masks_are_the_decoded_rles(self, carried):
        load = TRANSFORMS.build(dict(type='LoadAmodalAnnotations', with_mask=True))
        rng = np.random.default_rng(0)
        for num in (0, 1, 4):
            instances = random_instances(rng, num, 13, 17, carried_invisible=carried)
            masks = load(dict(height=13, width=17, instances=instances))['gt_masks']
            for part, key in ((masks, 'mask'), (masks.visible, 'visible_mask'),
                              (masks.invisible, 'invisible_mask')):
                expected = np.array([rle_to_mask(inst[key]) for inst in instances],
                                    dtype=np.uint8).reshape(num, 13, 17)
                assert part.masks.dtype == np.uint8
                np.testing.assert_array_equal(part.masks, expected)

    def test_invisible_masks_that_are_not_amodal_and_not_visible_are_carried(self):
        load = TRANSFORMS.build(dict(type='LoadAmodalAnnotations', with_mask=True))
        instances = random_instances(np.random.default_rng(1), 3, 9, 11, carried_invisible=True)
        masks = load(dict(height=9, width=11, instances=instances))['gt_masks']
        assert not masks.invisible_is_derived
        flipped = masks.flip('horizontal')
        np.testing.assert_array_equal(flipped.invisible.masks[2],
                                      rle_to_mask(instances[2]['invisible_mask'])[:, ::-1])
