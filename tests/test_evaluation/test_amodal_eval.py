"""Properties of the amodal evaluation core (mmorcnn.evaluation.functional)."""
import contextlib
import io
import json
import logging
from unittest import TestCase

import numpy as np
from mmengine.logging import MMLogger
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from mmorcnn.evaluation.functional import (SIZE_BINS, AmodalDetections, amodal_metric_keys,
                                           evaluate_amodal)
from mmorcnn.evaluation.functional.amodal_table import format_amodal_table
from mmorcnn.evaluation.functional.occlusion_order_eval import ORDER_KEYS
from mmorcnn.structures.mask_utils import mask_to_rle
from .amodal_brute_force import brute_force
from .amodal_random_data import random_scene, to_coco_gt, to_coco_results

DESIGN_KEYS = [  # docs/metric.md
    'AP_AV', 'AP_A', 'AP_V', 'occ_AP_AV', 'occ_AP_A', 'occ_AP_V', 'occ_AP_IV50', 'AP_AV_50',
    'AP_AV_75', 'AR_AV', 'AR_A', 'AR_V', 'occ_AR_AV', 'occ_AR_A', 'occ_AR_V'
]


def cocoeval(gt: dict, results: list, use_cats: bool = True, max_dets: int = 100) -> COCOeval:
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(results), 'segm')
        ev.params.useCats = int(use_cats)
        ev.params.maxDets = [max_dets]
        ev.evaluate()
        ev.accumulate()
    return ev


def coco_numbers(ev: COCOeval) -> list:
    """AP, AP_50, AP_75 and AR at the last maxDets, as COCOeval.summarize computes them."""
    precision, recall = ev.eval['precision'][..., 0, -1], ev.eval['recall'][..., 0, -1]

    def mean(x):
        return float(np.mean(x[x > -1])) if (x > -1).any() else -1.

    return [mean(precision), mean(precision[0]), mean(precision[5]), mean(recall)]


def silent() -> logging.Logger:
    logger = logging.getLogger('amodal-eval-test')
    logger.propagate = False
    return logger


class TestAmodalAndVisibleAPEqualCOCOeval(TestCase):
    """AP_A / AP_V (and _50, _75, AR) equal pycocotools' segm COCOeval on the amodal / visible
    masks, with crowd ground truth, images without ground truth and false positives."""

    def check(self, seed, class_agnostic=False, max_dets=100, tie_scores=False):
        anns, images, cats, dets = random_scene(seed, num_images=14)
        if tie_scores:
            dets.scores = np.round(dets.scores * 4) / 4
        ours = evaluate_amodal(anns, cats, dets, class_agnostic=class_agnostic,
                               max_dets=max_dets, logger=silent()).metrics
        for mask, m in (('amodal', 'A'), ('visible', 'V')):
            ev = cocoeval(to_coco_gt(anns, images, cats, mask), to_coco_results(dets, mask),
                          use_cats=not class_agnostic, max_dets=max_dets)
            expected = coco_numbers(ev)
            got = [ours[f'AP_{m}'], ours[f'AP_{m}_50'], ours[f'AP_{m}_75'], ours[f'AR_{m}']]
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9,
                                       err_msg=f'seed {seed} {mask}')

    def test_class_specific(self):
        for seed in range(6):
            self.check(seed)

    def test_class_agnostic(self):
        for seed in range(6, 10):
            self.check(seed, class_agnostic=True)

    def test_score_ties_and_max_dets_cut(self):
        for seed in range(10, 14):
            self.check(seed, class_agnostic=seed % 2 == 1, max_dets=3, tie_scores=True)


class TestJointAndOccludedMeasuresMatchBruteForce(TestCase):
    """AP_AV, the occluded measures (with the 3.3 removal rule), AP_IV@0.5, things / stuff and
    the occlusion levels agree with the plain implementation of the definitions."""

    def check(self, seed, class_agnostic=False, stuff=False, max_dets=100):
        anns, _, cats, dets = random_scene(seed, num_images=10, stuff=stuff)
        cat_ids = [c['id'] for c in cats]
        ours = evaluate_amodal(anns, cats, dets, class_agnostic=class_agnostic,
                               max_dets=max_dets, logger=silent()).metrics
        cases = [('all', m, '') for m in ('AV', 'A', 'V')] + \
                [('occluded', m, 'occ_') for m in ('AV', 'A', 'V')] + \
                [(s, 'A', f'{s}_') for s in ('none', 'partial', 'heavy')]
        if stuff:
            cases += [('things', 'A', 'things_'), ('stuff', 'A', 'stuff_')]
        for subset, measure, prefix in cases:
            ref = brute_force(anns, cat_ids, dets, subset, measure,
                              class_agnostic=class_agnostic, max_dets=max_dets)
            self.assertAlmostEqual(ours[f'{prefix}AP_{measure}'], ref['AP'], delta=1e-9,
                                   msg=f'seed {seed} {subset} AP_{measure}')
            self.assertAlmostEqual(ours[f'{prefix}AR_{measure}'], ref['AR'], delta=1e-9,
                                   msg=f'seed {seed} {subset} AR_{measure}')
        ref = brute_force(anns, cat_ids, dets, 'occluded', 'IV', thresholds=[0.5],
                          class_agnostic=class_agnostic, max_dets=max_dets)
        self.assertAlmostEqual(ours['occ_AP_IV50'], ref['AP'], delta=1e-9, msg=f'seed {seed}')

    def test_class_specific(self):
        for seed in range(20, 23):
            self.check(seed)

    def test_class_agnostic_with_things_and_stuff(self):
        for seed in range(23, 25):
            self.check(seed, class_agnostic=True, stuff=True, max_dets=4)

    def test_removal_rule_is_exercised(self):
        """On these scenes occ_AP_V differs from its value without the removal rule."""
        differs = []
        for seed in range(20, 24):
            anns, _, cats, dets = random_scene(seed, num_images=10)
            ours = evaluate_amodal(anns, cats, dets, logger=silent()).metrics
            without = brute_force(anns, [c['id'] for c in cats], dets, 'occluded', 'V',
                                  remove=False)
            differs.append(abs(ours['occ_AP_V'] - without['AP']) > 1e-6)
        self.assertTrue(any(differs))


def set_stated_rates(anns_by_image: dict, seed: int) -> None:
    """Give the ground truth stated ``occlude_rate`` values at the edges of COCOA's occlusion
    levels and values that disagree with the masks, as a release may state them."""
    rng = np.random.default_rng(seed)
    choices = [0.25, 0.25, 0.00001, 0.000004, 0.0000099, 0.5, 1.0, None]
    for anns in anns_by_image.values():
        for ann in anns:
            rate = choices[int(rng.integers(len(choices)))]
            if rate is None:  # the masks' rate, but stated 0 for an occluded object
                rate = 0. if ann['occlude_rate'] > 0 else 0.3
            ann['occlude_rate'] = rate


def one_object(rate: float) -> tuple:
    """One ground truth with the stated ``rate`` (its masks are unoccluded) and a perfect
    detection of it."""
    mask = np.zeros((20, 20), np.uint8)
    mask[2:12, 3:15] = 1
    rle = mask_to_rle(mask)
    anns = {1: [dict(id=1, image_id=1, category_id=1, iscrowd=0, occlude_rate=rate,
                     amodal=rle, visible=rle, invisible=mask_to_rle(0 * mask))]}
    return anns, [dict(id=1, name='object')], AmodalDetections([1], [1], [0.9], [rle], [rle])


class TestOcclusionLevelsAsAmodalAPI(TestCase):
    """none / partial / heavy are amodalAPI's closed occRng ranges on the stated rate:
    [0, 1e-5], [1e-5, 0.25], [0.25, 1]."""

    def test_edge_rates_and_rates_that_disagree_with_the_masks_match_brute_force(self):
        for seed, class_agnostic in ((70, True), (71, True), (72, False)):
            anns, _, cats, dets = random_scene(seed, num_images=10, num_cats=1 + 2 * (
                not class_agnostic), crowd_prob=0.)
            set_stated_rates(anns, seed)
            ours = evaluate_amodal(anns, cats, dets, class_agnostic=class_agnostic,
                                   logger=silent()).metrics
            for level in ('none', 'partial', 'heavy'):
                ref = brute_force(anns, [c['id'] for c in cats], dets, level, 'A',
                                  class_agnostic=class_agnostic)
                self.assertGreater(ref['AP'], -1, f'seed {seed}: {level} has ground truth')
                self.assertAlmostEqual(ours[f'{level}_AP_A'], ref['AP'], delta=1e-9,
                                       msg=f'seed {seed} {level} AP_A')
                self.assertAlmostEqual(ours[f'{level}_AR_A'], ref['AR'], delta=1e-9,
                                       msg=f'seed {seed} {level} AR_A')

    def levels(self, rate: float) -> list:
        metrics = evaluate_amodal(*one_object(rate), logger=silent()).metrics
        return [metrics[f'{level}_AP_A'] for level in ('none', 'partial', 'heavy', 'occ')]

    def test_rate_of_exactly_a_quarter_is_partial_and_heavy(self):
        np.testing.assert_allclose(self.levels(0.25), [-1, 1, 1, 1], atol=1e-12)

    def test_rate_up_to_1e5_is_none_and_still_occluded(self):
        np.testing.assert_allclose(self.levels(0.000004), [1, -1, -1, 1], atol=1e-12)
        np.testing.assert_allclose(self.levels(0.00001), [1, 1, -1, 1], atol=1e-12)

    def test_levels_follow_the_stated_rate_not_the_masks(self):
        np.testing.assert_allclose(self.levels(0.6), [-1, -1, 1, 1], atol=1e-12)


class TestAmodalMasksStandInForVisible(TestCase):
    """A model without visible masks (AmodalMRCNN) is evaluated with its amodal masks as
    visible masks; without invisible masks AP_IV is -1."""

    def test_visible_measures_use_amodal_masks(self):
        anns, _, cats, dets = random_scene(30, num_images=10, dets_visible=False,
                                           dets_invisible=False)
        ours = evaluate_amodal(anns, cats, dets, logger=silent()).metrics
        explicit = AmodalDetections(dets.image_ids, dets.category_ids, dets.scores, dets.amodal,
                                    visible=dets.amodal, invisible=dets.amodal)
        ref = evaluate_amodal(anns, cats, explicit, logger=silent()).metrics
        for key in ('AP_V', 'AP_AV', 'occ_AP_V', 'occ_AP_AV', 'AR_V'):
            self.assertEqual(ours[key], ref[key], key)
        self.assertEqual(ours['occ_AP_IV50'], -1)
        self.assertGreater(ref['occ_AP_IV50'], -1)


class TestEdgeCases(TestCase):

    def test_no_detections_gives_zero_not_minus_one(self):
        anns, _, cats, _ = random_scene(40, num_images=6)
        none = AmodalDetections.from_json([])
        metrics = evaluate_amodal(anns, cats, none, logger=silent()).metrics
        self.assertEqual(set(metrics), set(amodal_metric_keys()))
        # order_acc / order_F1: this ground truth has no occluder_ids, so -1 (their own tests);
        # a COCO size bin without any object is -1 (no object of 96 x 96 pixels fits these
        # 40 x 48 images)
        areas = [a['area'] for img_anns in anns.values() for a in img_anns if not a['iscrowd']]
        sizes = {f'AP_A_{k}': -1. if not any(lo <= a <= hi for a in areas) else 0.
                 for k, (lo, hi) in zip('sml', SIZE_BINS.values())}
        self.assertEqual(sizes['AP_A_l'], -1)
        self.assertEqual({k: metrics[k] for k in sizes}, sizes)
        self.assertTrue(all(v == 0 for k, v in metrics.items()
                            if k not in ORDER_KEYS and k not in sizes), metrics)

    def test_no_occluded_object_reports_minus_one_with_warning(self):
        anns, _, cats, dets = random_scene(41, num_images=6, occluded=False)
        logger = MMLogger.get_instance('amodal-no-occlusion')
        with self.assertLogs(logger, level=logging.WARNING) as logs:
            metrics = evaluate_amodal(anns, cats, dets, logger=logger).metrics
        self.assertTrue(any('No occluded ground-truth object' in m for m in logs.output))
        occluded = [k for k in metrics if k.startswith(('occ_', 'partial_', 'heavy_'))]
        self.assertTrue(occluded)
        self.assertTrue(all(metrics[k] == -1 for k in occluded))
        self.assertGreater(metrics['AP_A'], 0)
        self.assertEqual(metrics['none_AP_A'], metrics['AP_A'])  # every object is unoccluded

    def test_class_without_ground_truth_is_left_out_of_the_mean(self):
        anns, images, cats, dets = random_scene(42, num_images=8)
        extra = dict(id=99, name='never-annotated')
        mask = np.zeros((40, 48), dtype=np.uint8)
        mask[2:9, 3:12] = 1
        fp = AmodalDetections([images[0]['id']], [99], [0.99], [mask_to_rle(mask)],
                              [mask_to_rle(mask)], [mask_to_rle(0 * mask)])
        with_fp = AmodalDetections.concat([dets, fp])
        result = evaluate_amodal(anns, cats + [extra], with_fp, classwise=True, logger=silent())
        ref = evaluate_amodal(anns, cats, dets, logger=silent())
        self.assertEqual(result.metrics['AP_A'], ref.metrics['AP_A'])
        self.assertEqual(result.per_class['never-annotated']['AP_A'], -1)
        ev = cocoeval(to_coco_gt(anns, images, cats + [extra], 'amodal'),
                      to_coco_results(with_fp, 'amodal'))
        self.assertAlmostEqual(result.metrics['AP_A'], coco_numbers(ev)[0], delta=1e-12)

    def test_detection_inside_crowd_region_is_not_a_false_positive(self):
        h, w = 30, 30
        obj, crowd = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
        obj[2:10, 2:10] = 1
        crowd[15:30, 0:30] = 1
        anns = {1: [
            dict(id=1, image_id=1, category_id=1, iscrowd=0, occlude_rate=0.,
                 amodal=mask_to_rle(obj), visible=mask_to_rle(obj),
                 invisible=mask_to_rle(0 * obj)),
            dict(id=2, image_id=1, category_id=1, iscrowd=1, occlude_rate=0.,
                 amodal=mask_to_rle(crowd), visible=mask_to_rle(crowd),
                 invisible=mask_to_rle(0 * crowd)),
        ]}
        inside = np.zeros((h, w), np.uint8)
        inside[20:25, 5:10] = 1
        rles = [mask_to_rle(inside), mask_to_rle(inside), mask_to_rle(obj)]
        dets = AmodalDetections([1, 1, 1], [1, 1, 1], [0.9, 0.8, 0.7], rles, rles)
        metrics = evaluate_amodal(anns, [dict(id=1, name='a')], dets, logger=silent()).metrics
        # both detections inside the crowd region are ignored, the third one is a TP
        self.assertAlmostEqual(metrics['AP_A'], 1.0, delta=1e-12)
        self.assertAlmostEqual(metrics['AP_AV'], 1.0, delta=1e-12)


class TestResultsFileRoundTrip(TestCase):
    """The results file gives the same numbers, and pycocotools reads it for AP_A."""

    def test_json_round_trip_and_pycocotools(self):
        anns, images, cats, dets = random_scene(50, num_images=8)
        entries = json.loads(json.dumps(dets.to_json()))
        self.assertEqual(set(entries[0]),
                         {'image_id', 'category_id', 'score', 'bbox', 'segmentation',
                          'visible_mask', 'invisible_mask'})
        again = AmodalDetections.from_json(entries)
        ours = evaluate_amodal(anns, cats, dets, logger=silent()).metrics
        self.assertEqual(evaluate_amodal(anns, cats, again, logger=silent()).metrics, ours)
        ev = cocoeval(to_coco_gt(anns, images, cats, 'amodal'), entries)
        self.assertAlmostEqual(ours['AP_A'], coco_numbers(ev)[0], delta=1e-12)

    def test_partial_optional_masks_are_rejected(self):
        entries = AmodalDetections.from_json([])
        self.assertEqual(len(entries), 0)
        _, _, _, dets = random_scene(51, num_images=3)
        rows = dets.to_json()
        del rows[0]['visible_mask']
        with self.assertRaises(ValueError):
            AmodalDetections.from_json(rows)


class TestResultKeys(TestCase):

    def test_keys_follow_the_design(self):
        keys = amodal_metric_keys(things_stuff=True)
        for key in DESIGN_KEYS:
            self.assertIn(key, keys)
        self.assertIn('things_AP_A', keys)
        self.assertIn('heavy_AR_A', keys)
        self.assertNotIn('things_AP_A', amodal_metric_keys())

    def test_table_has_a_row_per_measure(self):
        anns, _, cats, dets = random_scene(60, num_images=5, stuff=True)
        metrics = evaluate_amodal(anns, cats, dets, logger=silent()).metrics
        table = format_amodal_table(metrics)
        for label in ('all', 'occluded', 'things', 'stuff', 'occlusion heavy'):
            self.assertIn(label, table)
        self.assertEqual(table.count('\n| '), 1 + 12)  # header and 12 rows
