import numpy as np
import pytest
from mmdet.registry import TRANSFORMS

from mmorcnn.structures.amodal_masks import AmodalBitmapMasks


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
