"""Properties of AmodalCocoMetric (the mmengine adapter) and of eval_amodal.py."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from typing import Optional
from unittest import TestCase

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

import mmorcnn  # noqa: F401  (registers AmodalCocoMetric)
from mmorcnn.datasets import load_amodal_coco
from mmorcnn.evaluation.functional import AmodalDetections, evaluate_amodal
from mmorcnn.structures.mask_utils import rle_iou, rle_to_mask
from .amodal_random_data import random_scene, to_annotation_file
from .literature_reference import literature_keys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def make_scene(seed: int, tmp_dir: str, **kwargs):
    """Write a random scene's annotation file; return its path, the parsed scene and the
    DetDataSamples a model would give for it (one per image, in file order)."""
    anns, images, cats, dets = random_scene(seed, **kwargs)
    ann_file = osp.join(tmp_dir, f'scene{seed}.json')
    with open(ann_file, 'w') as f:
        json.dump(to_annotation_file(anns, images, cats), f)
    label_of = {c['id']: k for k, c in enumerate(cats)}
    samples = []
    for img in images:
        idx = np.flatnonzero(dets.image_ids == img['id'])
        pred = InstanceData()
        shape = (len(idx), img['height'], img['width'])

        def masks(rles):
            stacked = [rle_to_mask(rles[i]) for i in idx]
            return torch.from_numpy(np.stack(stacked)).bool() if stacked else \
                torch.zeros(shape, dtype=torch.bool)

        pred.masks = masks(dets.amodal)
        if dets.visible is not None:
            pred.visible_masks = masks(dets.visible)
        if dets.invisible is not None:
            pred.invisible_masks = masks(dets.invisible)
        pred.scores = torch.tensor(dets.scores[idx], dtype=torch.float32)
        pred.labels = torch.tensor([label_of[c] for c in dets.category_ids[idx]],
                                   dtype=torch.long)
        xywh = dets.bboxes[idx].reshape(-1, 4)
        pred.bboxes = torch.tensor(np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1),
                                   dtype=torch.float32)
        sample = DetDataSample(metainfo=dict(img_id=img['id'],
                                             ori_shape=(img['height'], img['width'])))
        sample.pred_instances = pred
        samples.append(sample)
    meta = dict(classes=tuple(c['name'] for c in cats))
    return ann_file, (anns, images, cats, dets), samples, meta


def float32_scores(dets: AmodalDetections) -> AmodalDetections:
    """The detections with the scores a float32 tensor carries."""
    return AmodalDetections(dets.image_ids, dets.category_ids,
                            dets.scores.astype(np.float32).astype(np.float64), dets.amodal,
                            dets.visible, dets.invisible, dets.bboxes)


def run_metric(ann_file, samples, meta, **kwargs) -> dict:
    metric = METRICS.build(dict(type='AmodalCocoMetric', ann_file=ann_file, **kwargs))
    metric.dataset_meta = meta
    for i in range(0, len(samples), 3):
        metric.process({}, samples[i:i + 3])
    return metric.evaluate(size=len(samples))


class TestMetricEqualsTheCore(TestCase):
    """Built from ``dict(type='AmodalCocoMetric', ann_file=...)`` and driven by process /
    evaluate, the metric returns the core's numbers under ``amodal/`` keys."""

    def test_orcnn_layout(self):
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, (anns, _, cats, dets), samples, meta = make_scene(1, tmp, num_images=9)
            metrics = run_metric(ann_file, samples, meta)
        expected = evaluate_amodal(anns, cats, float32_scores(dets)).metrics
        self.assertEqual(metrics, {f'amodal/{k}': v for k, v in expected.items()})
        self.assertGreater(metrics['amodal/occ_AP_IV50'], -1)

    def test_amodal_mask_rcnn_layout_has_no_iv(self):
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, (anns, _, cats, dets), samples, meta = make_scene(
                2, tmp, num_images=9, dets_visible=False, dets_invisible=False)
            metrics = run_metric(ann_file, samples, meta)
        self.assertEqual(metrics['amodal/occ_AP_IV50'], -1)
        expected = evaluate_amodal(anns, cats, float32_scores(dets)).metrics
        self.assertEqual(metrics['amodal/AP_V'], expected['AP_V'])

    def test_literature_keys_equal_pycocotools_and_can_be_left_out(self):
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, (anns, images, cats, dets), samples, meta = make_scene(
                8, tmp, num_images=8, size=(110, 130))
            metrics = run_metric(ann_file, samples, meta)
            without = run_metric(ann_file, samples, meta, literature_protocols=False)
        ref = literature_keys(anns, images, cats, float32_scores(dets))
        for key, value in ref.items():
            self.assertAlmostEqual(metrics[f'amodal/{key}'], value, delta=1e-12, msg=key)
        self.assertEqual(set(metrics) - set(without), {f'amodal/{k}' for k in ref})

    def test_classwise_adds_per_class_keys(self):
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, (_, _, cats, _), samples, meta = make_scene(3, tmp, num_images=6)
            metrics = run_metric(ann_file, samples, meta, classwise=True)
        for cat in cats:
            self.assertIn(f'amodal/{cat["name"]}_AP_AV', metrics)
            self.assertIn(f'amodal/{cat["name"]}_occ_AP_IV50', metrics)

    def test_no_detections(self):
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, _, samples, meta = make_scene(4, tmp, num_images=5)
            for sample in samples:
                sample.pred_instances = sample.pred_instances[:0]
            metrics = run_metric(ann_file, samples, meta)
        self.assertTrue(all(v in (0, -1) for v in metrics.values()), metrics)
        self.assertEqual(metrics['amodal/AP_A'], 0)


class TestResultsFileAndOfflineTool(TestCase):
    """format_only writes the results file; eval_amodal.py evaluates it to the same numbers
    and prints the same table."""

    def test_format_only_then_eval_amodal(self):
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, _, samples, meta = make_scene(5, tmp, num_images=7)
            prefix = osp.join(tmp, 'preds')
            self.assertEqual(run_metric(ann_file, samples, meta, format_only=True,
                                        outfile_prefix=prefix), {})
            with open(f'{prefix}.amodal.json') as f:
                entries = json.load(f)
            self.assertEqual(len(entries), sum(len(s.pred_instances) for s in samples))
            metrics = run_metric(ann_file, samples, meta)
            out = osp.join(tmp, 'metrics.json')
            proc = subprocess.run(
                [sys.executable, 'tools/analysis_tools/eval_amodal.py', ann_file,
                 f'{prefix}.amodal.json', '--out', out],
                cwd=REPO_ROOT, capture_output=True, text=True, env=_env_without_install())
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(out) as f:
                offline = json.load(f)
            proc_without = subprocess.run(
                [sys.executable, 'tools/analysis_tools/eval_amodal.py', ann_file,
                 f'{prefix}.amodal.json', '--out', out, '--no-literature-protocols'],
                cwd=REPO_ROOT, capture_output=True, text=True, env=_env_without_install())
            self.assertEqual(proc_without.returncode, 0, proc_without.stderr)
            with open(out) as f:
                offline_without = json.load(f)
        self.assertEqual(offline, metrics)
        log = proc.stdout + proc.stderr
        self.assertIn('| occluded', log)
        self.assertIn('amodal_copypaste', log)
        self.assertIn('The keys by protocol', log)
        self.assertIn('| occ15_AP_A ', log)
        self.assertNotIn('amodal/occ15_AP_A', offline_without)
        self.assertEqual(offline_without['amodal/AP_A'], offline['amodal/AP_A'])


def _break_one_annotation(ann_file: str, ann_id: Optional[int] = None) -> dict:
    """Give annotation ``ann_id`` (default: the file's first non-crowd one) an ``occlude_rate``
    outside [0, 1] (its masks stay usable, so ``on_error='skip'`` makes it an ignored region);
    return it."""
    with open(ann_file) as f:
        data = json.load(f)
    bad = next(a for a in data['annotations']
               if (a['id'] == ann_id if ann_id is not None else not a['iscrowd']))
    bad['occlude_rate'] = 2.
    with open(ann_file, 'w') as f:
        json.dump(data, f)
    return bad


def _best_detected_object(anns_by_image: dict, dets: AmodalDetections) -> int:
    """The id of the object best covered by a detection of its class (amodal IoU), among the
    classes with other objects (a class without any is left out of the mean AP either way)."""
    objects = [a for anns in anns_by_image.values() for a in anns if not a['iscrowd']]
    counts = Counter(a['category_id'] for a in objects)
    best_iou, best_id = 0., None
    for obj in objects:
        idx = np.flatnonzero((dets.image_ids == obj['image_id'])
                             & (dets.category_ids == obj['category_id']))
        if counts[obj['category_id']] > 1 and len(idx):
            iou = rle_iou([dets.amodal[i] for i in idx], [obj['amodal']]).max()
            if iou > best_iou:
                best_iou, best_id = iou, obj['id']
    return best_id


class TestGroundTruthPolicy(TestCase):
    """By default the metric loads the ground truth as the evaluated dataset does
    (``dataset_meta['on_error']``), unless it is given its own ``on_error``."""

    def test_follows_the_datasets_skip_the_bad_object_is_ignored_not_deleted(self):
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, (anns, _, cats, dets), samples, meta = make_scene(1, tmp, num_images=9)
            bad = _break_one_annotation(ann_file, _best_detected_object(anns, dets))
            metrics = run_metric(ann_file, samples, dict(meta, on_error='skip'))
            gt = load_amodal_coco(ann_file, on_error='skip', logger='silent')
        region = next(a for a in gt.anns_by_image[bad['image_id']] if a['id'] == bad['id'])
        self.assertEqual((region['iscrowd'], region['amodal']), (1, bad['segmentation']))
        deleted = {img: [a for a in image_anns if a['id'] != bad['id']]
                   for img, image_anns in gt.anns_by_image.items()}
        as_ignored = evaluate_amodal(gt.anns_by_image, cats, float32_scores(dets)).metrics
        as_deleted = evaluate_amodal(deleted, cats, float32_scores(dets)).metrics
        self.assertEqual(metrics, {f'amodal/{k}': v for k, v in as_ignored.items()})
        self.assertNotEqual(as_ignored['AP_A'], as_deleted['AP_A'])

    def test_the_metrics_own_on_error_wins_before_any_batch(self):
        from mmorcnn.datasets import AmodalAnnotationError
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, _, _, meta = make_scene(1, tmp, num_images=3)
            _break_one_annotation(ann_file)
            metric = METRICS.build(dict(type='AmodalCocoMetric', ann_file=ann_file,
                                        on_error='raise'))
            with self.assertRaisesRegex(AmodalAnnotationError, 'occlude_rate'):
                metric.dataset_meta = dict(meta, on_error='skip')

    def test_without_a_dataset_setting_it_raises(self):
        from mmorcnn.datasets import AmodalAnnotationError
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, _, _, meta = make_scene(1, tmp, num_images=3)
            _break_one_annotation(ann_file)
            metric = METRICS.build(dict(type='AmodalCocoMetric', ann_file=ann_file))
            with self.assertRaisesRegex(AmodalAnnotationError, 'occlude_rate'):
                metric.dataset_meta = meta


class TestDetectionCoverage(TestCase):
    """How many images have detections is said, and a warning given when most have none (a
    results file of part of the dataset lowers every AP without another trace)."""

    def test_results_of_three_of_ten_images_warn(self):
        import logging
        from mmengine.logging import MMLogger
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, _, samples, meta = make_scene(2, tmp, num_images=10)
            partial = samples[:3]
            num_dets = sum(len(s.pred_instances) for s in partial)
            logger = MMLogger.get_instance('coverage_test')
            with self.assertLogs(logger, level=logging.INFO) as logs:
                metric = METRICS.build(dict(type='AmodalCocoMetric', ann_file=ann_file))
                metric.dataset_meta = meta
                metric.process({}, partial)
                MMLogger._instance_dict.move_to_end('coverage_test')  # the current logger
                metric.evaluate(size=len(partial))
            warnings = [r.getMessage() for r in logs.records if r.levelno == logging.WARNING]
            self.assertTrue(any(f'{num_dets} detections on 3 of 10 images; 7 images have no '
                                'detection at all' in w for w in warnings), warnings)

    def test_full_results_are_counted_without_warning(self):
        import logging
        from mmorcnn.evaluation.functional import log_detection_coverage
        with tempfile.TemporaryDirectory() as tmp:
            _, (_, images, _, dets), _, _ = make_scene(2, tmp, num_images=4)
        img_ids = [img['id'] for img in images]
        covered = len(set(dets.image_ids.tolist()))
        logger = logging.getLogger('coverage_full')
        with self.assertLogs(logger, level=logging.INFO) as logs:
            log_detection_coverage(dets, img_ids, logger)
        self.assertEqual([r.levelno for r in logs.records], [logging.INFO])
        self.assertIn(f'{len(dets)} detections on {covered} of 4 images', logs.output[0])


def _env_without_install() -> dict:
    """The tool must run from the repo root without mmorcnn on the path."""
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _distributed_worker(rank: int, world_size: int, port: int, ann_file: str, seed: int,
                        num_images: int, out_file: str) -> None:
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=world_size)
    try:
        # the samples of the scene; its annotation file is written again in a folder of this
        # rank, since rewriting ann_file could race with the other rank reading it
        rank_dir = osp.join(osp.dirname(ann_file), f'rank{rank}')
        os.makedirs(rank_dir, exist_ok=True)
        _, _, samples, meta = make_scene(seed, rank_dir, num_images=num_images)
        # mmengine's DefaultSampler: rank r takes r, r + W, ...; the last rank is padded with
        # the first samples so every rank has the same number.
        per_rank = -(-len(samples) // world_size)
        indices = (list(range(len(samples))) * 2)[:per_rank * world_size][rank::world_size]
        metric = METRICS.build(dict(type='AmodalCocoMetric', ann_file=ann_file))
        metric.dataset_meta = meta
        for i in indices:
            metric.process({}, [samples[i]])
        metrics = metric.evaluate(size=len(samples))
        if rank == 0:
            with open(out_file, 'w') as f:
                json.dump(metrics, f)
    finally:
        dist.destroy_process_group()


class TestDistributedEvaluation(TestCase):
    """Two gloo processes give exactly the numbers of one (results gathered, the sampler's
    padding dropped, nothing counted twice)."""

    def test_two_processes_equal_one(self):
        seed, num_images = 7, 11  # odd: the second rank gets a padded duplicate
        with tempfile.TemporaryDirectory() as tmp:
            ann_file, _, samples, meta = make_scene(seed, tmp, num_images=num_images)
            single = run_metric(ann_file, samples, meta)
            out_file = osp.join(tmp, 'dist.json')
            mp.spawn(_distributed_worker,
                     args=(2, _free_port(), ann_file, seed, num_images, out_file), nprocs=2)
            with open(out_file) as f:
                distributed = json.load(f)
        self.assertEqual(distributed, single)
