"""The literature's protocols (AISFormer / VRSP-Net occlusion bins, COCO size bins, aistron's
occluded AP) equal pycocotools' COCOeval configured as those codebases configure it."""
import logging
from unittest import TestCase

import numpy as np

from mmorcnn.evaluation.functional import AmodalDetections, amodal_metric_keys, evaluate_amodal
from mmorcnn.evaluation.functional.amodal_table import PROTOCOL_COLUMNS, format_protocol_table
from mmorcnn.structures.mask_utils import mask_to_rle
from .amodal_random_data import random_scene
from .literature_reference import (aisformer_bins, aistron_occluded, coco_size_bins,
                                   literature_keys)

LITERATURE_KEYS = ['occ15_AP_A', 'occ25_AP_A', 'occ40_AP_A', 'occ15_AP_V', 'occ25_AP_V',
                   'occ40_AP_V', 'AP_A_s', 'AP_A_m', 'AP_A_l', 'occ_AP_IV', 'occ_AP_IV75']


def silent() -> logging.Logger:
    logger = logging.getLogger('literature-protocols-test')
    logger.propagate = False
    return logger


def evaluate(anns, cats, dets, **kwargs) -> dict:
    return evaluate_amodal(anns, cats, dets, logger=silent(), **kwargs).metrics


def assert_equal_keys(test: TestCase, ours: dict, ref: dict, msg: str = '') -> None:
    for key, value in ref.items():
        test.assertAlmostEqual(ours[key], value, delta=1e-12, msg=f'{msg} {key}')


def set_rates_on_bin_limits(anns_by_image: dict, seed: int) -> None:
    """Stated rates whose visible fraction 1 - rate is exactly a bin's limit (.85, .75, .6)."""
    rng = np.random.default_rng(seed)
    for anns in anns_by_image.values():
        for ann in anns:
            if rng.random() < 0.6:
                ann['occlude_rate'] = [0.15, 0.25, 0.4][int(rng.integers(3))]


class TestEqualPycocotoolsOnRandomData(TestCase):
    """Every literature key equals the configured pycocotools on random scenes (crowd regions,
    images without objects, false positives, detections of the wrong class)."""

    def check(self, seed, class_agnostic=False, max_dets=100, **scene):
        anns, images, cats, dets = random_scene(seed, **scene)
        ours = evaluate(anns, cats, dets, class_agnostic=class_agnostic, max_dets=max_dets)
        ref = literature_keys(anns, images, cats, dets, use_cats=not class_agnostic,
                              max_dets=max_dets)
        self.assertEqual(set(ref), set(LITERATURE_KEYS))
        assert_equal_keys(self, ours, ref, f'seed {seed}')
        return ref

    def test_class_specific(self):
        refs = [self.check(seed, num_images=10, size=(110, 130)) for seed in range(3)]
        for key in LITERATURE_KEYS:  # each key is exercised somewhere, not only -1
            if key != 'AP_A_l':
                self.assertTrue(any(ref[key] > 0 for ref in refs), key)

    def test_class_agnostic_and_max_dets_cut(self):
        for seed in range(3, 6):
            self.check(seed, class_agnostic=seed % 2 == 0, max_dets=2, num_images=10,
                       size=(110, 130))

    def test_size_bins_with_large_objects(self):
        refs = [self.check(seed, num_images=6, size=(200, 220)) for seed in (6, 7)]
        self.assertTrue(any(ref['AP_A_l'] > 0 for ref in refs))

    def test_visible_fraction_exactly_on_the_bin_limits(self):
        for seed in (8, 9):
            anns, images, cats, dets = random_scene(seed, num_images=10, size=(60, 70))
            set_rates_on_bin_limits(anns, seed)
            ours = evaluate(anns, cats, dets)
            assert_equal_keys(self, ours, aisformer_bins(anns, images, cats, dets),
                              f'seed {seed}')

    def test_model_without_visible_masks(self):
        """AmodalMRCNN: the amodal masks stand in for the visible ones, so every detection's
        visible fraction is 1 and unmatched detections are outside every bin."""
        anns, images, cats, dets = random_scene(10, num_images=10, size=(60, 70),
                                                dets_visible=False, dets_invisible=False)
        ours = evaluate(anns, cats, dets)
        assert_equal_keys(self, ours, aisformer_bins(anns, images, cats, dets))
        self.assertEqual(ours['occ_AP_IV'], -1)
        self.assertEqual(ours['occ_AP_IV75'], -1)

    def test_stated_area_decides_the_size_bin(self):
        """COCO's size bins read the file's ``area`` (as pycocotools does), not the mask's."""
        anns, images, cats, dets = random_scene(11, num_images=8, size=(60, 70))
        rng = np.random.default_rng(11)
        for img_anns in anns.values():
            for ann in img_anns:
                ann['stated_area'] = ann['area'] = float(rng.choice([500., 1024., 5000.,
                                                                     9216., 20000.]))
        ours = evaluate(anns, cats, dets)
        ref = coco_size_bins(anns, images, cats, dets)
        assert_equal_keys(self, ours, ref)
        self.assertTrue(all(ref[k] > -1 for k in ('AP_A_s', 'AP_A_m', 'AP_A_l')))


def _rect(h, w, y0, y1, x0, x1) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def _gt(ann_id, amodal, visible, rate=None, crowd=0, cat=1) -> dict:
    invisible = amodal & (1 - visible)
    rate = float(invisible.sum() / amodal.sum()) if rate is None else rate
    return dict(id=ann_id, image_id=1, category_id=cat, iscrowd=crowd, occlude_rate=rate,
                area=float(amodal.sum()), amodal=mask_to_rle(amodal),
                visible=mask_to_rle(visible), invisible=mask_to_rle(invisible))


def _dets(masks, scores, cat=1) -> AmodalDetections:
    """Detections from ``(amodal, visible)`` pairs; invisible = amodal AND NOT visible."""
    return AmodalDetections(
        [1] * len(masks), [cat] * len(masks), scores, [mask_to_rle(a) for a, _ in masks],
        [mask_to_rle(v) for _, v in masks], [mask_to_rle(a & (1 - v)) for a, v in masks])


CATS = [dict(id=1, name='object')]
IMAGES = [dict(id=1, file_name='1.png', height=40, width=40)]


class TestBinLimits(TestCase):
    """The bins are closed ranges of the visible fraction, for ground truth and detections."""

    def test_ground_truth_at_a_limit_is_in_the_bin(self):
        amodal = _rect(40, 40, 2, 12, 2, 22)  # 200 pixels
        visible = _rect(40, 40, 2, 12, 2, 19)  # 170: visible fraction .85
        anns = {1: [_gt(1, amodal, visible, rate=0.15)]}
        dets = _dets([(amodal, visible)], [0.9])
        ours = evaluate(anns, CATS, dets)
        np.testing.assert_allclose(
            [ours['occ15_AP_A'], ours['occ25_AP_A'], ours['occ40_AP_A']], [1, -1, -1],
            atol=1e-9)
        assert_equal_keys(self, ours, aisformer_bins(anns, IMAGES, CATS, dets))

    def test_unmatched_detection_at_a_limit_counts_above_it_is_ignored(self):
        """A higher-scoring false positive lowers occ15_AP_A when its visible fraction is .85
        (inside [0, .85]) and does not when it is .9 (outside: ignored, as COCOeval ignores
        unmatched detections outside the area range)."""
        amodal = _rect(40, 40, 2, 12, 2, 22)
        visible = _rect(40, 40, 2, 12, 2, 12)  # fraction .5: in every bin
        anns = {1: [_gt(1, amodal, visible)]}
        fp_amodal = _rect(40, 40, 25, 35, 2, 22)  # 200 pixels, far from the object
        results = {}
        for fraction, width in ((0.85, 17), (0.9, 18), (0.6, 12), (0.75, 15)):
            fp_visible = _rect(40, 40, 25, 35, 2, 2 + width)
            dets = _dets([(fp_amodal, fp_visible), (amodal, visible)], [0.9, 0.5])
            ours = evaluate(anns, CATS, dets)
            assert_equal_keys(self, ours, aisformer_bins(anns, IMAGES, CATS, dets),
                              f'fraction {fraction}')
            results[fraction] = [ours[f'{b}_AP_A'] for b in ('occ15', 'occ25', 'occ40')]
        np.testing.assert_allclose(results[0.85], [0.5, 1, 1], atol=1e-9)
        np.testing.assert_allclose(results[0.9], [1, 1, 1], atol=1e-9)
        np.testing.assert_allclose(results[0.75], [0.5, 0.5, 1], atol=1e-9)
        np.testing.assert_allclose(results[0.6], [0.5, 0.5, 0.5], atol=1e-9)

    def test_detection_with_empty_amodal_mask_is_never_outside(self):
        """Its visible fraction 0 / 0 is NaN; COCOeval's range test is False for NaN."""
        amodal = _rect(40, 40, 2, 12, 2, 22)
        visible = _rect(40, 40, 2, 12, 2, 12)
        anns = {1: [_gt(1, amodal, visible)]}
        empty = np.zeros((40, 40), np.uint8)
        dets = _dets([(empty, empty), (amodal, visible)], [0.9, 0.5])
        ours = evaluate(anns, CATS, dets)
        self.assertAlmostEqual(ours['occ40_AP_A'], 0.5, delta=1e-9)
        assert_equal_keys(self, ours, aisformer_bins(anns, IMAGES, CATS, dets))


class TestAistronOccludedAP(TestCase):
    """occ_AP_IV: ground truth and detections with an empty invisible mask are left out."""

    def scene(self):
        occluded_amodal = _rect(40, 40, 2, 12, 2, 22)
        occluded_visible = _rect(40, 40, 2, 12, 2, 12)
        whole = _rect(40, 40, 20, 30, 5, 25)
        anns = {1: [_gt(1, occluded_amodal, occluded_visible), _gt(2, whole, whole)]}
        return anns, (occluded_amodal, occluded_visible), (whole, whole)

    def test_objects_without_invisible_mask_are_left_out(self):
        anns, occluded, whole = self.scene()
        # the unoccluded object's detection has no invisible mask: not a false positive
        dets = _dets([whole, occluded], [0.9, 0.5])
        ours = evaluate(anns, CATS, dets)
        self.assertAlmostEqual(ours['occ_AP_IV'], 1., delta=1e-9)
        self.assertAlmostEqual(ours['occ_AP_IV75'], 1., delta=1e-9)
        assert_equal_keys(self, ours, aistron_occluded(anns, IMAGES, CATS, dets))

    def test_left_out_after_the_max_dets_cut(self):
        """As aistron's evaluateImg: the max_dets highest-scoring detections are kept first,
        then those without an invisible mask dropped."""
        anns, occluded, whole = self.scene()
        dets = _dets([whole, whole, occluded], [0.9, 0.8, 0.5])
        for max_dets, expected in ((2, 0.), (3, 1.)):
            ours = evaluate(anns, CATS, dets, max_dets=max_dets)
            self.assertAlmostEqual(ours['occ_AP_IV'], expected, delta=1e-9, msg=max_dets)
            assert_equal_keys(self, ours, aistron_occluded(anns, IMAGES, CATS, dets,
                                                           max_dets=max_dets))

    def test_differs_from_the_papers_occluded_iv(self):
        """occ_AP_IV50 removes detections meant for unoccluded objects (3.3); aistron's AP
        only leaves out empty invisible masks, so a wrong invisible part on the detection of
        an unoccluded object is a false positive there."""
        anns, occluded, (whole, _) = self.scene()
        wrong = _rect(40, 40, 20, 30, 5, 20)  # predicts a hidden part for the whole object
        dets = _dets([(whole, wrong), occluded], [0.9, 0.5])
        ours = evaluate(anns, CATS, dets)
        self.assertAlmostEqual(ours['occ_AP_IV50'], 1., delta=1e-9)
        self.assertLess(ours['occ_AP_IV'], 0.99)
        assert_equal_keys(self, ours, aistron_occluded(anns, IMAGES, CATS, dets))


class TestCrowd(TestCase):
    """A detection inside a crowd region is neither a true nor a false positive in the bins,
    the size bins and aistron's AP, as in COCOeval."""

    def test_detection_inside_crowd_region(self):
        amodal = _rect(40, 40, 2, 12, 2, 22)
        visible = _rect(40, 40, 2, 12, 2, 12)
        crowd_amodal = _rect(40, 40, 18, 40, 0, 40)
        crowd_visible = _rect(40, 40, 18, 40, 0, 24)
        anns = {1: [_gt(1, amodal, visible), _gt(2, crowd_amodal, crowd_visible, crowd=1)]}
        # inside the crowd region with each of its three masks
        inside = (_rect(40, 40, 25, 35, 22, 32), _rect(40, 40, 25, 35, 22, 24))
        dets = _dets([inside, (amodal, visible)], [0.9, 0.5])
        ours = evaluate(anns, CATS, dets)
        for key in ('occ15_AP_A', 'occ40_AP_V', 'AP_A_s', 'occ_AP_IV'):
            self.assertAlmostEqual(ours[key], 1., delta=1e-9, msg=key)
        assert_equal_keys(self, ours, literature_keys(anns, IMAGES, CATS, dets))


class TestSwitch(TestCase):

    def test_literature_keys_can_be_left_out(self):
        anns, _, cats, dets = random_scene(12, num_images=4)
        without = evaluate(anns, cats, dets, literature_protocols=False)
        with_them = evaluate(anns, cats, dets)
        self.assertFalse(set(LITERATURE_KEYS) & set(without))
        self.assertEqual(set(with_them) - set(without), set(LITERATURE_KEYS))
        self.assertEqual({k: v for k, v in with_them.items() if k in without}, without)
        self.assertEqual(set(amodal_metric_keys(literature_protocols=False)), set(without))
        self.assertEqual(set(amodal_metric_keys()), set(with_them))


class TestProtocolTable(TestCase):

    def test_every_column_names_a_key_the_metric_reports(self):
        keys = set(amodal_metric_keys(things_stuff=True))
        for protocol, columns in PROTOCOL_COLUMNS:
            for column, key in columns:
                self.assertIn(key, keys, f'{protocol}: {column}')

    def test_table_groups_the_keys_by_protocol(self):
        anns, _, cats, dets = random_scene(13, num_images=4)
        metrics = evaluate(anns, cats, dets)
        table = format_protocol_table(metrics)
        for protocol, _ in PROTOCOL_COLUMNS:
            self.assertIn(protocol, table)
        for key in LITERATURE_KEYS:
            self.assertIn(f'| {key} ', table)
        self.assertNotIn('things_AP_A', table)  # no isstuff in this ground truth
