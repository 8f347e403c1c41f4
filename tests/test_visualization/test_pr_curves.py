"""Precision-recall curves of the amodal evaluation: the curves are the AP the metric reports
(their mean); eval_amodal.py draws them when asked, and AmodalCocoMetric writes the arrays from
which AmodalPRCurvesHook draws them."""
import json
import os.path as osp
import subprocess
import sys
import tempfile
from types import SimpleNamespace
from unittest import TestCase

import numpy as np
from PIL import Image

from mmdet.registry import METRICS

from mmorcnn.evaluation.functional import AmodalDetections, evaluate_amodal
from mmorcnn.evaluation.functional.amodal_eval import IOU_THRS
from mmorcnn.visualization import plot_pr_curves
from mmorcnn.visualization.pr_curves import pr_curve
from test_evaluation.amodal_random_data import random_scene, to_annotation_file
from test_evaluation.test_amodal_coco_metric import make_scene

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: plot_pr_curves' figure: 13.5 x 8.4 inches at 100 dpi.
PNG_SIZE = (1350, 840)


def _assert_png(test: TestCase, path: str) -> None:
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        test.assertEqual(image.format, 'PNG')
        test.assertEqual(image.size, PNG_SIZE)


class TestPrCurves(TestCase):

    @classmethod
    def setUpClass(cls):
        anns, _, cats, dets = random_scene(11, num_images=8)
        cls.evaluation = evaluate_amodal(anns, cats, dets)

    def test_the_mean_of_a_curve_is_the_reported_ap(self):
        ev, m = self.evaluation, self.evaluation.metrics
        for measure in ('A', 'V', 'AV'):
            for prefix in ('', 'occ_'):
                precision = ev.precision[f'{prefix}{measure}']
                self.assertAlmostEqual(pr_curve(precision, IOU_THRS, 0.5).mean(),
                                       m[f'{prefix}AP_{measure}_50'])
                self.assertAlmostEqual(pr_curve(precision, IOU_THRS, 0.75).mean(),
                                       m[f'{prefix}AP_{measure}_75'])
                self.assertAlmostEqual(pr_curve(precision, IOU_THRS, None).mean(),
                                       m[f'{prefix}AP_{measure}'])
        self.assertGreater(m['occ_AP_IV50'], 0)
        self.assertAlmostEqual(pr_curve(ev.precision['occ_IV'], np.array([0.5]), 0.5).mean(),
                               m['occ_AP_IV50'])

    def test_precision_falls_with_recall(self):
        curve = pr_curve(self.evaluation.precision['A'], IOU_THRS, 0.5)
        self.assertTrue((np.diff(curve) <= 1e-12).all())  # COCO's interpolated precision

    def test_writes_a_png(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = plot_pr_curves(self.evaluation, osp.join(tmp, 'sub', 'pr.png'), title='t')
            _assert_png(self, out)

    def test_without_invisible_masks_iv_is_not_drawn_but_the_rest_is(self):
        anns, _, cats, dets = random_scene(12, num_images=4)
        amodal_only = AmodalDetections(dets.image_ids, dets.category_ids, dets.scores,
                                       dets.amodal, None, None, dets.bboxes)
        evaluation = evaluate_amodal(anns, cats, amodal_only)
        self.assertEqual(evaluation.metrics['occ_AP_IV50'], -1)
        with tempfile.TemporaryDirectory() as tmp:
            _assert_png(self, plot_pr_curves(evaluation, osp.join(tmp, 'pr.png')))

    def test_eval_amodal_plot_dir(self):
        anns, images, cats, dets = random_scene(13, num_images=5)
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, results = osp.join(tmp, 'gt.json'), osp.join(tmp, 'results.json')
            with open(ann_file, 'w') as f:
                json.dump(to_annotation_file(anns, images, cats), f)
            with open(results, 'w') as f:
                json.dump(dets.to_json(), f)
            proc = subprocess.run(
                [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools', 'eval_amodal.py'),
                 ann_file, results, '--plot-dir', osp.join(tmp, 'plots')],
                capture_output=True, text=True)
            self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
            _assert_png(self, osp.join(tmp, 'plots', 'pr_curves.png'))

    def test_metric_plot_dir_then_the_hook_draws(self):
        from mmorcnn.engine import AmodalPRCurvesHook
        from mmorcnn.evaluation.functional import load_pr_arrays
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, _, samples, meta = make_scene(14, tmp, num_images=4)
            plot_dir = osp.join(tmp, 'plots')
            metric = METRICS.build(dict(type='AmodalCocoMetric', ann_file=ann_file,
                                        plot_dir=plot_dir))
            metric.dataset_meta = meta
            metric.process({}, samples)
            metrics = metric.evaluate(size=len(samples))
            self.assertEqual(metric.pr_arrays_file, osp.join(plot_dir, 'pr_curves.npz'))
            saved = load_pr_arrays(metric.pr_arrays_file)
            self.assertEqual(saved.metrics['AP_A'], metrics['amodal/AP_A'])
            self.assertFalse(osp.exists(osp.join(plot_dir, 'pr_curves.png')))  # not drawn here
            runner = SimpleNamespace(test_evaluator=SimpleNamespace(metrics=[metric]))
            AmodalPRCurvesHook().after_test_epoch(runner, metrics)
            _assert_png(self, osp.join(plot_dir, 'pr_curves.png'))

    def test_saved_arrays_are_the_evaluation(self):
        from mmorcnn.evaluation.functional import load_pr_arrays, save_pr_arrays
        with tempfile.TemporaryDirectory() as tmp:
            loaded = load_pr_arrays(save_pr_arrays(self.evaluation, osp.join(tmp, 'a.npz')))
        self.assertEqual(loaded.metrics, self.evaluation.metrics)
        self.assertEqual((loaded.cat_ids, loaded.cat_names),
                         (self.evaluation.cat_ids, self.evaluation.cat_names))
        self.assertEqual(sorted(loaded.precision), sorted(self.evaluation.precision))
        for name, value in self.evaluation.precision.items():
            np.testing.assert_array_equal(loaded.precision[name], value)
        for name, value in self.evaluation.recall.items():
            np.testing.assert_array_equal(loaded.recall[name], value)
