import itertools

import numpy as np
import pytest
import torch

from mmorcnn.structures import (mask_to_rle, occluder_ids, occlusion_graph,
                                occlusion_graph_from_overlaps, occlusion_overlaps,
                                rle_occlusion_overlaps)


def rect(h, w, y0, y1, x0, x1):
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def painted_scene(amodals):
    """Visible masks of amodal masks listed front to back (painter's algorithm)."""
    covered = np.zeros_like(amodals[0])
    visible = []
    for a in amodals:
        visible.append(a & ~covered)
        covered |= a
    return np.stack(amodals), np.stack(visible)


def brute_force_overlap(visible, invisible):
    n = len(visible)
    return np.array([[0 if i == j else int((invisible[i] & visible[j]).sum()) for j in range(n)]
                     for i in range(n)])


class TestOcclusionGraph:

    def test_stack_of_three_gives_depths_of_the_painter(self):
        # a in front of b in front of c; a also covers part of c directly
        amodal, visible = painted_scene([
            rect(40, 40, 0, 20, 0, 20), rect(40, 40, 10, 30, 10, 30), rect(40, 40, 5, 38, 15, 38)
        ])
        g = occlusion_graph(amodal, visible)
        expected = np.zeros((3, 3), bool)
        expected[1, 0] = True  # a hides b
        expected[2, 0] = expected[2, 1] = True  # a and b hide c
        np.testing.assert_array_equal(g.occluders, expected)
        np.testing.assert_array_equal(g.depth, [0, 1, 2])
        assert occluder_ids([10, 11, 12], g.occluders) == [[], [10], [10, 11]]

    def test_unoccluded_instances_have_depth_zero_and_no_edges(self):
        amodal, visible = painted_scene([rect(20, 20, 0, 5, 0, 5), rect(20, 20, 10, 15, 10, 15)])
        g = occlusion_graph(amodal, visible)
        assert not g.occluders.any()
        np.testing.assert_array_equal(g.depth, [0, 0])

    def test_noise_thresholds(self):
        # b's invisible part touches a's visible part in 3 pixels only: below min_pixels
        a = rect(30, 30, 0, 10, 0, 10)
        b = rect(30, 30, 9, 20, 7, 20)
        amodal = np.stack([a, b])
        visible = np.stack([a, b & ~a])
        assert (amodal[1] & ~visible[1] & visible[0]).sum() == 3
        assert not occlusion_graph(amodal, visible).occluders.any()
        assert occlusion_graph(amodal, visible, min_pixels=3).occluders[1, 0]
        # a fraction threshold of the invisible area
        assert not occlusion_graph(amodal, visible, min_pixels=1,
                                   min_fraction=1.01).occluders.any()

    def test_mutual_occlusion_keeps_the_stronger_direction_and_a_tie_neither(self):
        overlap = np.array([[0, 30], [10, 0]])
        g = occlusion_graph_from_overlaps(overlap, np.array([40, 40]))
        np.testing.assert_array_equal(g.occluders, [[False, True], [False, False]])
        np.testing.assert_array_equal(g.depth, [1, 0])
        tie = occlusion_graph_from_overlaps(np.array([[0, 20], [20, 0]]), np.array([40, 40]))
        assert not tie.occluders.any()
        np.testing.assert_array_equal(tie.depth, [0, 0])

    def test_cycle_is_broken_for_depth_at_the_weakest_edge(self):
        # 0 hidden by 1 (50 px), 1 hidden by 2 (40 px), 2 hidden by 0 (10 px, weakest)
        overlap = np.zeros((3, 3), int)
        overlap[0, 1], overlap[1, 2], overlap[2, 0] = 50, 40, 10
        g = occlusion_graph_from_overlaps(overlap, np.array([60, 60, 60]), min_fraction=0.)
        assert g.occluders[0, 1] and g.occluders[1, 2] and g.occluders[2, 0]  # edges kept
        np.testing.assert_array_equal(g.depth, [2, 1, 0])  # 2 is in front once 2->0 is cut

    def test_cycle_tie_breaks_at_the_smallest_edge_index(self):
        overlap = np.zeros((3, 3), int)
        overlap[0, 1] = overlap[1, 2] = overlap[2, 0] = 20
        g = occlusion_graph_from_overlaps(overlap, np.array([60, 60, 60]))
        np.testing.assert_array_equal(g.depth, [0, 2, 1])  # edge (0, 1) is cut

    def test_depth_is_one_plus_the_deepest_occluder_on_random_graphs(self):
        rng = np.random.default_rng(0)
        for _ in range(200):
            n = int(rng.integers(1, 8))
            # strictly "front to back" by index: acyclic, so depth is exact
            overlap = np.triu(rng.integers(0, 3, (n, n)) * rng.integers(4, 50, (n, n)), 1).T
            g = occlusion_graph_from_overlaps(overlap, overlap.sum(1) + 1, min_fraction=0.)
            for i in range(n):
                front = [g.depth[j] for j in range(n) if g.occluders[i, j]]
                assert g.depth[i] == (1 + max(front) if front else 0)

    def test_overlaps_match_brute_force_for_arrays_torch_and_rle(self):
        rng = np.random.default_rng(1)
        visible = rng.random((5, 17, 23)) < 0.4
        invisible = rng.random((5, 17, 23)) < 0.3
        expected = brute_force_overlap(visible, invisible)
        np.testing.assert_array_equal(occlusion_overlaps(visible, invisible), expected)
        np.testing.assert_array_equal(
            occlusion_overlaps(torch.from_numpy(visible), torch.from_numpy(invisible)), expected)
        np.testing.assert_array_equal(
            rle_occlusion_overlaps([mask_to_rle(m) for m in visible],
                                   [mask_to_rle(m) for m in invisible]), expected)

    def test_windows_give_the_overlaps_and_graph_of_the_whole_masks(self):
        """Masks empty outside their windows: reading inside the windows only changes nothing."""
        rng = np.random.default_rng(2)
        h, w, n = 30, 40, 12
        windows = np.zeros((n, 4), np.int64)
        amodal, visible = np.zeros((n, h, w), bool), np.zeros((n, h, w), bool)
        for i in range(n):
            y0, x0 = rng.integers(0, h - 5), rng.integers(0, w - 5)
            y1, x1 = rng.integers(y0 + 1, h + 1), rng.integers(x0 + 1, w + 1)
            windows[i] = y0, y1, x0, x1
            amodal[i, y0:y1, x0:x1] = rng.random((y1 - y0, x1 - x0)) < 0.8
            visible[i] = amodal[i] & (rng.random((h, w)) < 0.5)
        windows[3] = 0, h, 0, w  # a window may be the whole image
        amodal[5] = visible[5] = False  # or hold an empty mask
        invisible = amodal & ~visible
        expected = brute_force_overlap(visible, invisible)
        for masks in ((visible, invisible), (torch.from_numpy(visible), torch.from_numpy(invisible))):
            np.testing.assert_array_equal(occlusion_overlaps(*masks, windows=windows), expected)
        whole = occlusion_graph(amodal, visible, invisible, min_pixels=1)
        assert whole.occluders.any()
        windowed = occlusion_graph(amodal, visible, invisible, min_pixels=1, windows=windows)
        for a, b in zip(whole, windowed):
            np.testing.assert_array_equal(a, b)
        with pytest.raises(ValueError, match=r'windows must be \(12, 4\)'):
            occlusion_overlaps(visible, invisible, windows=windows[:5])

    def test_torch_input_gives_torch_output(self):
        amodal, visible = painted_scene([rect(20, 20, 0, 10, 0, 10), rect(20, 20, 5, 15, 5, 15)])
        g = occlusion_graph(torch.from_numpy(amodal), torch.from_numpy(visible))
        assert g.occluders.dtype == torch.bool and g.occluders.shape == (2, 2)
        assert g.depth.dtype == torch.long and g.depth.tolist() == [0, 1]

    def test_empty_image(self):
        g = occlusion_graph(np.zeros((0, 8, 8), bool), np.zeros((0, 8, 8), bool))
        assert g.occluders.shape == (0, 0) and g.depth.shape == (0,)

    @pytest.mark.parametrize('order', list(itertools.permutations(range(3))))
    def test_graph_follows_the_instances_not_their_order(self, order):
        amodal, visible = painted_scene([
            rect(40, 40, 0, 20, 0, 20), rect(40, 40, 10, 30, 10, 30), rect(40, 40, 5, 38, 15, 38)
        ])
        ref = occlusion_graph(amodal, visible)
        idx = list(order)
        g = occlusion_graph(amodal[idx], visible[idx])
        np.testing.assert_array_equal(g.occluders, ref.occluders[np.ix_(idx, idx)])
        np.testing.assert_array_equal(g.depth, ref.depth[idx])
