import warnings

import numpy as np
import pycocotools.mask as maskUtils
import pytest

from mmorcnn.structures.mask_utils import (MaskFormatError, mask_to_rle, rle_and_not, rle_area,
                                           rle_complement, rle_intersect, rle_intersection_areas,
                                           rle_is_and_not, rle_to_mask, rles_to_masks)

SHAPES = [(1, 1), (5, 7), (40, 60), (120, 333)]


def random_masks(shape, fill: float, seed: int):
    rng = np.random.default_rng(seed)
    return [(rng.random(shape) < p).astype(np.uint8) for p in (fill, 0.5)]


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('fill', [0., 0.02, 0.5, 0.98, 1.])
class TestRleSetOperations:
    """The RLE-space operations give exactly the pixel-wise results, without decoding."""

    def test_complement_is_not(self, shape, fill):
        a, _ = random_masks(shape, fill, seed=0)
        np.testing.assert_array_equal(rle_to_mask(rle_complement(mask_to_rle(a))), 1 - a)

    def test_intersect_is_and(self, shape, fill):
        a, b = random_masks(shape, fill, seed=1)
        np.testing.assert_array_equal(rle_to_mask(rle_intersect(mask_to_rle(a), mask_to_rle(b))),
                                      a & b)

    def test_and_not_is_a_without_b(self, shape, fill):
        a, b = random_masks(shape, fill, seed=2)
        result = rle_and_not(mask_to_rle(a), mask_to_rle(b))
        assert isinstance(result['counts'], str)
        np.testing.assert_array_equal(rle_to_mask(result), a & (1 - b))

    def test_is_and_not_tells_exactly_whether_a_mask_is_a_without_b(self, shape, fill):
        a, b = random_masks(shape, fill, seed=3)
        exact = a & (1 - b)
        assert rle_is_and_not(mask_to_rle(exact), mask_to_rle(a), mask_to_rle(b))
        rng = np.random.default_rng(4)
        for _ in range(5):  # one pixel off, anywhere: in b, outside a, or missing
            off = exact.copy()
            off[tuple(rng.integers(0, s) for s in shape)] ^= 1
            assert not rle_is_and_not(mask_to_rle(off), mask_to_rle(a), mask_to_rle(b))


@pytest.mark.parametrize('shape', SHAPES)
def test_rles_to_masks_stacks_the_decoded_masks(shape):
    rng = np.random.default_rng(5)
    masks = (rng.random((3, *shape)) < 0.3).astype(np.uint8)
    stack = rles_to_masks([mask_to_rle(m) for m in masks], *shape)
    assert stack.dtype == np.uint8 and stack.flags.c_contiguous
    np.testing.assert_array_equal(stack, masks)
    assert rles_to_masks([], *shape).shape == (0, *shape)


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('fill', [0., 0.02, 0.5, 1.])
def test_rle_to_mask_gives_back_the_encoded_mask(shape, fill):
    """Column-major uint8, as pycocotools' decode returns it, from str or bytes counts."""
    mask, _ = random_masks(shape, fill, seed=6)
    rle = mask_to_rle(mask)
    for counts in (rle['counts'], rle['counts'].encode('ascii')):
        decoded = rle_to_mask({'size': rle['size'], 'counts': counts})
        assert decoded.dtype == np.uint8 and decoded.flags.f_contiguous
        np.testing.assert_array_equal(decoded, mask)


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('fill', [0., 0.3, 1.])
def test_rle_to_mask_equals_pycocotools_decode(shape, fill):
    """The same array as pycocotools' decode: values, dtype and memory order."""
    mask, _ = random_masks(shape, fill, seed=7)
    rle = mask_to_rle(mask)
    with warnings.catch_warnings():  # decode's own numpy-2 DeprecationWarning
        warnings.simplefilter('ignore', DeprecationWarning)
        reference = maskUtils.decode({'size': rle['size'], 'counts': rle['counts'].encode()})
    decoded = rle_to_mask(rle)
    assert decoded.dtype == reference.dtype and decoded.flags.f_contiguous == \
        reference.flags.f_contiguous
    np.testing.assert_array_equal(decoded, reference)


def test_rle_to_mask_refuses_counts_of_another_size():
    rle = mask_to_rle(np.ones((4, 5), np.uint8))
    with pytest.raises(MaskFormatError, match='covers 20 pixels'):
        rle_to_mask({'size': [4, 6], 'counts': rle['counts']})


def test_areas_of_many_rles_are_their_pixel_counts():
    """pycocotools' area takes at most 255 RLEs a call under numpy 2; more are chunked."""
    rng = np.random.default_rng(5)
    a = [(rng.random((9, 11)) < rng.random()).astype(np.uint8) for _ in range(600)]
    b = [(rng.random((9, 11)) < 0.5).astype(np.uint8) for _ in range(600)]
    np.testing.assert_array_equal(rle_area([mask_to_rle(m) for m in a]),
                                  [m.sum() for m in a])
    np.testing.assert_array_equal(
        rle_intersection_areas([mask_to_rle(m) for m in a], [mask_to_rle(m) for m in b]),
        [(x & y).sum() for x, y in zip(a, b)])
    assert rle_area([]).shape == (0,)
