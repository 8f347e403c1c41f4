"""mmorcnn.analysis.benchmark_metric (tools/analysis_tools/benchmark_metric.py) on a few tiny
random scenes: the metric and pycocotools see the same data and agree on AP_A (the timing is not
tested)."""
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from mmorcnn.analysis.benchmark_metric import (MetricBenchmarkScenes, coco_inputs, make_data,
                                               run_benchmark_metric, time_cocoeval, time_metric)

SCENES = MetricBenchmarkScenes(num_images=4, dets_per_image=12, gt_per_image=4, num_classes=3,
                               height=120, width=160, seed=3)


def test_metric_ap_a_equals_cocoeval_on_the_benchmark_scenes():
    anns_by_image, images, categories, dets = make_data(SCENES)
    assert len(images) == 4 and len(dets) == 4 * 12
    _, metrics = time_metric(anns_by_image, categories, dets)
    _, coco_ap = time_cocoeval(COCO, COCOeval, *coco_inputs(anns_by_image, images, categories,
                                                            dets))
    assert metrics['AP_A'] == pytest.approx(coco_ap, abs=1e-12)


def test_prints_a_row_per_evaluator_with_the_spread_of_its_repetitions(capsys):
    seconds = run_benchmark_metric(SCENES, faster_coco_eval=False, repeats=2)
    assert {name: len(times) for name, times in seconds.items()} == {
        'AmodalCocoMetric (all keys)': 2, 'pycocotools COCOeval segm': 2}
    out = capsys.readouterr().out
    assert 'AP_A - pycocotools AP: ' in out
    last = out.strip().splitlines()[-1]
    assert last.startswith('pycocotools COCOeval segm') and 'min-max' in last
    assert 'metric / this' in last
