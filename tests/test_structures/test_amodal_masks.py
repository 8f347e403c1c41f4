import numpy as np
import pytest
from mmdet.structures.mask import BitmapMasks

from mmorcnn.structures.amodal_masks import AmodalBitmapMasks


def make(num: int, seed: int = 0) -> AmodalBitmapMasks:
    rng = np.random.default_rng(seed)
    amodal = (rng.random((num, 12, 16)) > 0.3).astype(np.uint8)
    visible = amodal & (rng.random((num, 12, 16)) > 0.5)
    return AmodalBitmapMasks(amodal, 12, 16, visible, amodal & (1 - visible))


class TestAmodalBitmapMasks:

    def test_reads_as_the_amodal_masks(self):
        masks = make(3)
        assert isinstance(masks, BitmapMasks) and len(masks) == 3
        np.testing.assert_array_equal(masks.areas, masks.masks.sum((1, 2)))
        assert type(masks.amodal) is BitmapMasks
        np.testing.assert_array_equal(masks.amodal.masks, masks.masks)

    def test_indexing_selects_the_same_instances_of_all_three(self):
        masks = make(4)
        picked = masks[np.array([3, 1])]
        assert isinstance(picked, AmodalBitmapMasks)
        np.testing.assert_array_equal(picked.masks, masks.masks[[3, 1]])
        np.testing.assert_array_equal(picked.visible.masks, masks.visible.masks[[3, 1]])
        np.testing.assert_array_equal(picked.invisible.masks, masks.invisible.masks[[3, 1]])

    def test_cat_concatenates_all_three(self):
        a, b = make(2, seed=0), make(3, seed=1)
        both = AmodalBitmapMasks.cat([a, b])
        assert isinstance(both, AmodalBitmapMasks) and len(both) == 5
        np.testing.assert_array_equal(both.visible.masks,
                                      np.concatenate([a.visible.masks, b.visible.masks]))

    def test_crop_and_resize_crops_all_three_at_the_rois(self):
        masks = make(2)
        rois = np.array([[0, 0, 8, 6], [4, 2, 16, 12]], dtype=np.float32)
        out = masks.crop_and_resize(rois, (6, 6), np.array([0, 1]), interpolation='bilinear')
        expected = masks.visible.crop_and_resize(rois, (6, 6), np.array([0, 1]),
                                                 interpolation='bilinear')
        np.testing.assert_array_equal(out.visible.masks, expected.masks)

    def test_parts_of_another_length_are_refused(self):
        masks = make(2)
        with pytest.raises(ValueError, match='2 amodal masks but 1 visible'):
            AmodalBitmapMasks(masks.masks, 12, 16, masks.visible.masks[:1], masks.invisible.masks)
