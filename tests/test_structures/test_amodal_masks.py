import cv2
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


def random_stacks(rng: np.random.Generator, num: int, height: int, width: int):
    """Random amodal blobs, visible parts of them, and invisible = amodal AND NOT visible."""
    amodal = (rng.random((num, height, width)) > 0.4).astype(np.uint8)
    visible = amodal & (rng.random((num, height, width)) > 0.5)
    return amodal, visible, amodal & (1 - visible)


def random_operation(rng: np.random.Generator, height: int, width: int, num: int):
    """``(name, args, kwargs)`` of a random BitmapMasks operation valid for such masks."""
    interpolation = str(rng.choice(['nearest', 'nearest', 'bilinear']))
    kind = str(rng.choice(['rescale', 'rescale-tuple', 'resize', 'flip', 'pad', 'crop', 'expand',
                           'index', 'translate', 'shear', 'rotate', 'crop_and_resize']))
    if kind == 'rescale':
        return 'rescale', (float(rng.uniform(0.3, 2.5)), ), dict(interpolation=interpolation)
    if kind == 'rescale-tuple':
        scale = tuple(int(v) for v in rng.integers(4, 80, 2))
        return 'rescale', (scale, ), dict(interpolation=interpolation)
    if kind == 'resize':
        shape = tuple(int(v) for v in rng.integers(1, 90, 2))
        return 'resize', (shape, ), dict(interpolation=interpolation)
    if kind == 'flip':
        return 'flip', (str(rng.choice(['horizontal', 'vertical', 'diagonal'])), ), {}
    if kind == 'pad':
        shape = (height + int(rng.integers(0, 9)), width + int(rng.integers(0, 9)))
        return 'pad', (shape, ), dict(pad_val=int(rng.choice([0, 0, 1, 255])))
    if kind == 'crop':
        x1, y1 = int(rng.integers(0, width)), int(rng.integers(0, height))
        box = np.array([x1, y1, x1 + int(rng.integers(1, width + 1)),
                        y1 + int(rng.integers(1, height + 1))])
        return 'crop', (box, ), {}
    if kind == 'expand':
        top, left = int(rng.integers(0, 6)), int(rng.integers(0, 6))
        return 'expand', (height + top + int(rng.integers(0, 6)),
                          width + left + int(rng.integers(0, 6)), top, left), {}
    if kind == 'index':
        choice = int(rng.integers(0, 4))
        if choice == 0:
            return '__getitem__', (rng.permutation(num)[:int(rng.integers(0, num + 1))], ), {}
        if choice == 1:
            return '__getitem__', (rng.random(num) > 0.5, ), {}
        if choice == 2:
            return '__getitem__', (slice(None, None, -1), ), {}
        return '__getitem__', (int(rng.integers(0, num)), ), {}
    interpolation = str(rng.choice(['nearest', 'bilinear']))
    if kind == 'translate':
        return 'translate', ((height, width), float(rng.uniform(-8, 8)),
                             str(rng.choice(['horizontal', 'vertical']))), dict(
                                 interpolation=interpolation)
    if kind == 'shear':
        return 'shear', ((height, width), float(rng.uniform(-0.4, 0.4)),
                         str(rng.choice(['horizontal', 'vertical']))), dict(
                             interpolation=interpolation)
    if kind == 'rotate':
        return 'rotate', ((height, width), float(rng.uniform(-30, 30))), dict(
            interpolation=interpolation)
    boxes = np.sort(rng.uniform(0, max(height, width), (3, 4)), axis=1).astype(np.float32)
    return 'crop_and_resize', (boxes, (7, 5), rng.integers(0, num, 3)), {}


class TestSameMasksAsMmdetPerStack:
    """Every operation gives exactly what mmdet's BitmapMasks gives on each of the three stacks,
    whether the invisible masks are carried or derived as amodal AND NOT visible."""

    @pytest.mark.parametrize('derived', [True, False], ids=['derived', 'carried'])
    @pytest.mark.parametrize('seed', range(6))
    def test_random_chains_of_operations(self, seed, derived):
        rng = np.random.default_rng(seed)
        for chain in range(25):
            num = int(rng.integers(1, 5))
            height, width = (int(v) for v in rng.integers(1, 40, 2))
            amodal, visible, invisible = random_stacks(rng, num, height, width)
            if not derived:  # e.g. a file's invisible mask that is not amodal AND NOT visible
                invisible = invisible | (rng.random(invisible.shape) > 0.9).astype(np.uint8)
            masks = AmodalBitmapMasks(amodal, height, width, visible,
                                      None if derived else invisible)
            reference = [BitmapMasks(stack, height, width)
                         for stack in (amodal, visible, invisible)]
            for step in range(4):
                if len(masks) == 0 or masks.height == 0 or masks.width == 0:
                    break
                name, args, kwargs = random_operation(rng, masks.height, masks.width, len(masks))
                try:
                    reference = [getattr(part, name)(*args, **kwargs) for part in reference]
                except cv2.error:  # e.g. OpenCV has no nearest remap of > 4 channels
                    with pytest.raises(cv2.error):
                        getattr(masks, name)(*args, **kwargs)
                    break
                masks = getattr(masks, name)(*args, **kwargs)
                assert isinstance(masks, AmodalBitmapMasks)
                for part, expected in zip((masks, masks.visible, masks.invisible), reference):
                    assert (part.height, part.width) == (expected.height, expected.width), name
                    assert part.masks.dtype == expected.masks.dtype, name
                    np.testing.assert_array_equal(part.masks, expected.masks, err_msg=name)

    def test_derived_invisible_masks_stay_amodal_and_not_visible_through_exact_operations(self):
        rng = np.random.default_rng(0)
        amodal, visible, _ = random_stacks(rng, 3, 30, 20)
        masks = AmodalBitmapMasks(amodal, 30, 20, visible)
        masks = masks.rescale(1.7).flip('diagonal').pad((64, 40)).crop(np.array([3, 5, 33, 50]))
        masks = masks.expand(60, 40, 4, 2)[np.array([2, 0])]
        assert masks.invisible_is_derived
        np.testing.assert_array_equal(masks.invisible.masks,
                                      masks.masks & (1 - masks.visible.masks))

    def test_cat_of_derived_and_carried_masks(self):
        rng = np.random.default_rng(1)
        amodal, visible, _ = random_stacks(rng, 2, 8, 9)
        a = AmodalBitmapMasks(amodal, 8, 9, visible)
        stacks = random_stacks(rng, 3, 8, 9)
        b = AmodalBitmapMasks(stacks[0], 8, 9, stacks[1], stacks[2])
        both = AmodalBitmapMasks.cat([a, b])
        np.testing.assert_array_equal(both.invisible.masks,
                                      np.concatenate([a.invisible.masks, b.invisible.masks]))
        assert both.invisible_is_derived is False
        assert AmodalBitmapMasks.cat([a, a]).invisible_is_derived


def random_occluders(rng: np.random.Generator, num: int) -> np.ndarray:
    """A random ``(num, num)`` occluder relation (no instance hides itself)."""
    relation = rng.random((num, num)) > 0.6
    np.fill_diagonal(relation, False)
    return relation


def union_of_visible(relation: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """The occluder masks computed independently, one instance at a time."""
    out = np.zeros_like(visible)
    for i in range(len(relation)):
        for j in range(len(relation)):
            if relation[i, j]:
                out[i] |= visible[j]
    return out


class TestOccluderMasks:
    """Occluder masks (the union of the visible masks of each instance's occluders) move with the
    other masks through every operation, also when occluders are indexed away."""

    @pytest.mark.parametrize('seed', range(6))
    def test_random_chains_of_operations_move_them_as_mmdet_moves_a_stack(self, seed):
        rng = np.random.default_rng(100 + seed)
        for chain in range(25):
            num = int(rng.integers(1, 6))
            height, width = (int(v) for v in rng.integers(1, 40, 2))
            amodal, visible, _ = random_stacks(rng, num, height, width)
            relation = random_occluders(rng, num)
            masks = AmodalBitmapMasks(amodal, height, width, visible, occluders=relation)
            reference = BitmapMasks(union_of_visible(relation, visible), height, width)
            for step in range(4):
                if len(masks) == 0 or masks.height == 0 or masks.width == 0:
                    break
                name, args, kwargs = random_operation(rng, masks.height, masks.width, len(masks))
                try:
                    reference = getattr(reference, name)(*args, **kwargs)
                except cv2.error:
                    break
                masks = getattr(masks, name)(*args, **kwargs)
                assert masks.with_occluder, name
                got = masks.occluder
                assert (got.height, got.width) == (reference.height, reference.width), name
                np.testing.assert_array_equal(got.masks, reference.masks, err_msg=name)

    def test_exact_operations_keep_them_derived(self):
        rng = np.random.default_rng(0)
        amodal, visible, _ = random_stacks(rng, 3, 30, 20)
        relation = np.array([[0, 1, 1], [0, 0, 0], [0, 1, 0]], bool)
        masks = AmodalBitmapMasks(amodal, 30, 20, visible, occluders=relation)
        masks = masks.rescale(1.7).flip('horizontal').pad((64, 40)).crop(np.array([3, 5, 33, 50]))
        masks = masks[np.array([1, 2, 0])]  # a permutation drops nobody
        np.testing.assert_array_equal(masks.occluders, [[0, 0, 0], [1, 0, 0], [1, 1, 0]])
        np.testing.assert_array_equal(masks.occluder.masks,
                                      union_of_visible(masks.occluders, masks.visible.masks))

    def test_dropping_an_occluder_keeps_its_visible_pixels(self):
        rng = np.random.default_rng(2)
        amodal, visible, _ = random_stacks(rng, 3, 10, 12)
        relation = np.array([[0, 1, 0], [0, 0, 0], [1, 1, 0]], bool)
        masks = AmodalBitmapMasks(amodal, 10, 12, visible, occluders=relation)
        kept = masks[np.array([0, 2])]  # instance 1 hides both and leaves
        assert kept.occluders is None  # now a stack of its own
        np.testing.assert_array_equal(kept.occluder.masks, [visible[1], visible[0] | visible[1]])
        np.testing.assert_array_equal(kept.flip('vertical').occluder.masks,
                                      kept.occluder.masks[:, ::-1])

    def test_cat_keeps_each_part_s_occluders(self):
        rng = np.random.default_rng(3)
        parts = []
        for num in (2, 3):
            amodal, visible, _ = random_stacks(rng, num, 8, 9)
            parts.append(AmodalBitmapMasks(amodal, 8, 9, visible,
                                           occluders=random_occluders(rng, num)))
        both = AmodalBitmapMasks.cat(parts)
        np.testing.assert_array_equal(
            both.occluder.masks, np.concatenate([p.occluder.masks for p in parts]))
        stacked = AmodalBitmapMasks.cat([parts[0][np.array([1])], parts[1]])
        np.testing.assert_array_equal(
            stacked.occluder.masks,
            np.concatenate([parts[0].occluder.masks[1:], parts[1].occluder.masks]))
        with pytest.raises(ValueError, match='some masks have occluder masks'):
            AmodalBitmapMasks.cat([parts[0], AmodalBitmapMasks(parts[1].masks, 8, 9,
                                                               parts[1].visible.masks)])

    def test_without_occluders_there_are_none(self):
        amodal, visible, _ = random_stacks(np.random.default_rng(4), 2, 5, 5)
        masks = AmodalBitmapMasks(amodal, 5, 5, visible)
        assert not masks.with_occluder
        with pytest.raises(AttributeError, match='with_occluder=True'):
            masks.occluder
        with pytest.raises(ValueError, match=r'occluders must be \(2, 2\)'):
            AmodalBitmapMasks(amodal, 5, 5, visible, occluders=np.zeros((2, 3), bool))
