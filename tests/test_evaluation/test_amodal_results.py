"""Reading results files: every malformed entry is an AmodalResultsError naming the file, the
entry and its image; ignored regions of unusable ground truth; soft masks in the metric."""
import copy
import json
import logging

import numpy as np
import pytest
import torch
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

import mmorcnn  # noqa: F401  (registers AmodalCocoMetric)
from mmorcnn.datasets.amodal_format import load_amodal_coco
from mmorcnn.evaluation.functional import (AmodalDetections, AmodalResultsError,
                                           evaluate_amodal, load_amodal_results)
from mmorcnn.structures.mask_utils import SoftMaskError, mask_to_rle, rle_to_mask
from .amodal_random_data import random_scene, to_annotation_file

H, W = 20, 30


def _rect(y1, y2, x1, x2):
    mask = np.zeros((H, W), np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask


@pytest.fixture
def scene(tmp_path):
    """An annotation file of one image with two objects of category 1, and a results file of
    one detection on each (perfect matches); returns their paths and the results entries."""
    ann_file, results_file = tmp_path / 'gt.json', tmp_path / 'results.json'
    objects = [_rect(2, 8, 2, 10), _rect(10, 18, 15, 28)]
    ann_file.write_text(json.dumps(dict(
        images=[dict(id=5, file_name='a.png', height=H, width=W)],
        categories=[dict(id=1, name='a'), dict(id=2, name='b')],
        annotations=[dict(id=k + 1, image_id=5, category_id=1, segmentation=mask_to_rle(m),
                          bbox=[0, 0, 1, 1]) for k, m in enumerate(objects)])))
    entries = [dict(image_id=5, category_id=1, score=0.9 - 0.1 * k, segmentation=mask_to_rle(m),
                    visible_mask=mask_to_rle(m), invisible_mask=mask_to_rle(0 * m))
               for k, m in enumerate(objects)]

    def write(edit=None):
        content = copy.deepcopy(entries)
        if edit is not None:
            replaced = edit(content)
            if isinstance(replaced, tuple) and replaced[0] == 'replace':
                content = replaced[1]
        results_file.write_text(json.dumps(content))
        return str(results_file)

    return str(ann_file), write


class TestResultsFileValidation:

    def test_a_valid_file_reads_as_written(self, scene):
        ann_file, write = scene
        dets = load_amodal_results(write(), load_amodal_coco(ann_file))
        assert len(dets) == 2 and dets.image_ids.tolist() == [5, 5]
        assert dets.visible is not None and dets.invisible is not None

    def test_uncompressed_rle_is_read_as_the_same_mask(self, scene):
        ann_file, write = scene
        runs = [H * W - 6, 6]  # the last 6 pixels in column-major order

        def edit(rows):
            rows[0]['segmentation'] = dict(size=[H, W], counts=runs)

        dets = load_amodal_results(write(edit), load_amodal_coco(ann_file))
        expected = np.zeros(H * W, np.uint8)
        expected[-6:] = 1
        np.testing.assert_array_equal(rle_to_mask(dets.amodal[0]),
                                      expected.reshape(W, H).T)

    @pytest.mark.parametrize('edit, where, reason', [
        (lambda r: ('replace', {'detections': r}), None, 'a JSON list of detections, not a '),
        (lambda r: r.append([1, 2]), 'entry 2', 'the entry is a list, not an object'),
        (lambda r: r[0].pop('score'), 'entry 0, image 5', "no ['score']"),
        (lambda r: r[1].update(score='0.5'), 'entry 1, image 5', "score '0.5' is not a finite"),
        (lambda r: r[1].update(score=float('nan')), 'entry 1, image 5', 'score nan is not a f'),
        (lambda r: r[0].update(score=True), 'entry 0, image 5', 'score True is not'),
        (lambda r: r[0].update(image_id=6), 'entry 0, image 6', 'names no image of the anno'),
        (lambda r: r[0].update(image_id='5'), 'entry 0', "image_id '5' is not an integer"),
        (lambda r: r[1].update(category_id=3), 'entry 1, image 5', 'category_id 3 is not a c'),
        (lambda r: r[0]['segmentation'].update(counts='ab=c'), 'entry 0, image 5',
         'segmentation: compressed RLE counts end in the middle'),
        (lambda r: r[0]['segmentation'].update(counts='0P0'), 'entry 0, image 5',
         'segmentation: compressed RLE covers 0 pixels, not height x width = 20 x 30'),
        (lambda r: r[0].update(segmentation=mask_to_rle(np.ones((W, H), np.uint8))),
         'entry 0, image 5', 'segmentation: RLE size [30, 20] does not match the image size'),
        (lambda r: r[0]['visible_mask'].update(counts=[5, -5, H * W]), 'entry 0, image 5',
         'visible_mask: uncompressed RLE counts hold a run length outside'),
        (lambda r: r[1].update(segmentation=[[1, 1, 5, 1, 5, 5]]), 'entry 1, image 5',
         'segmentation is a list, not an RLE object'),
        (lambda r: r[1].pop('invisible_mask'), 'entry 1, image 5',
         'lacks "invisible_mask", which entry 0 has'),
        (lambda r: r[0].update(bbox=[0, 0, float('inf'), 1]), 'entry 0, image 5', 'bbox [0, 0,'),
    ])
    def test_malformed_entry_error_names_file_entry_and_problem(self, scene, edit, where,
                                                                 reason):
        ann_file, write = scene
        results_file = write(edit)
        with pytest.raises(AmodalResultsError) as info:
            load_amodal_results(results_file, load_amodal_coco(ann_file))
        prefix = f'{results_file}: {where}: ' if where else f'{results_file}: '
        assert str(info.value).startswith(prefix), str(info.value)
        assert reason in str(info.value)

    def test_truncated_file_error_names_the_file(self, scene, tmp_path):
        ann_file, write = scene
        results_file = write()
        text = open(results_file).read()
        open(results_file, 'w').write(text[:len(text) // 2])
        with pytest.raises(AmodalResultsError, match=f'{results_file}: not valid JSON'):
            load_amodal_results(results_file, load_amodal_coco(ann_file))

    def test_from_json_without_ground_truth_checks_masks_against_their_own_size(self):
        entry = dict(image_id=1, category_id=1, score=0.5,
                     segmentation=dict(size=[2, 2], counts=[1, 2]))
        with pytest.raises(AmodalResultsError, match='entry 0, image 1: segmentation: '
                           'uncompressed RLE covers 3 pixels'):
            AmodalDetections.from_json([entry])


class TestIgnoredRegionsInTheMetric:
    """An unusable ground-truth object read with on_error='skip' is an ignored region: no
    false negative, and a detection on it is neither a true nor a false positive."""

    def test_detection_on_an_ignored_region_is_no_false_positive(self, scene):
        ann_file, write = scene
        gt_file = ann_file.replace('gt.json', 'gt_bad.json')
        content = json.load(open(ann_file))
        content['annotations'][0]['occlude_rate'] = float('nan')  # object 1 unusable
        json.dump(content, open(gt_file, 'w'))
        gt = load_amodal_coco(gt_file, on_error='skip', logger=logging.getLogger('quiet'))
        dets = load_amodal_results(write(), gt)  # the first, higher-scored one is on object 1
        metrics = evaluate_amodal(gt.anns_by_image, gt.categories, dets, cat_ids=[1],
                                  logger=logging.getLogger('quiet')).metrics
        assert metrics['AP_A'] == pytest.approx(1.0, abs=1e-12)
        assert metrics['AR_A'] == pytest.approx(1.0, abs=1e-12)
        # had the object been deleted, the detection on it would be a false positive
        deleted = {5: [a for a in gt.anns_by_image[5] if not a.get('ignored')]}
        metrics = evaluate_amodal(deleted, gt.categories, dets, cat_ids=[1],
                                  logger=logging.getLogger('quiet')).metrics
        assert metrics['AP_A'] < 0.9

    def test_ignored_region_counts_no_false_negative(self, scene):
        ann_file, write = scene
        gt_file = ann_file.replace('gt.json', 'gt_bad.json')
        content = json.load(open(ann_file))
        content['annotations'][1]['segmentation'] = {'size': [H, W], 'counts': 'zz'}
        json.dump(content, open(gt_file, 'w'))
        gt = load_amodal_coco(gt_file, on_error='skip', logger=logging.getLogger('quiet'))
        assert gt.ignored == [(5, 2, 'bbox')]
        dets = load_amodal_results(write(lambda r: ('replace', r[:1])), gt)  # nothing found on object 2
        metrics = evaluate_amodal(gt.anns_by_image, gt.categories, dets, cat_ids=[1],
                                  logger=logging.getLogger('quiet')).metrics
        assert metrics['AR_A'] == pytest.approx(1.0, abs=1e-12)


def _sample(masks: torch.Tensor) -> DetDataSample:
    pred = InstanceData(masks=masks, visible_masks=masks,
                        invisible_masks=torch.zeros_like(masks),
                        scores=torch.tensor([0.9]), labels=torch.tensor([0]),
                        bboxes=torch.tensor([[0., 0., 5., 5.]]))
    sample = DetDataSample(metainfo=dict(img_id=5, ori_shape=(H, W)))
    sample.pred_instances = pred
    return sample


class TestSoftMasksInTheMetric:
    """Soft masks (mask_thr_binary < 0: grey levels 0-255) are binarised at the metric's
    threshold or refused; grey levels are never encoded as RLE runs."""

    def test_soft_masks_are_refused_without_a_threshold(self, scene):
        ann_file, _ = scene
        metric = METRICS.build(dict(type='AmodalCocoMetric', ann_file=ann_file))
        soft = torch.from_numpy(_rect(2, 8, 2, 10)[None] * 200)
        with pytest.raises(SoftMaskError, match='pred_instances.masks are soft'):
            metric.process({}, [_sample(soft)])

    def test_soft_masks_binarised_at_the_threshold_equal_the_binary_masks(self, scene):
        ann_file, _ = scene
        binary = _rect(2, 8, 2, 10)[None].astype(bool)
        soft = binary * 200 + (~binary) * 100  # probability 0.78 inside, 0.39 outside
        results = []
        for masks, thr in ((torch.from_numpy(binary), None),
                           (torch.from_numpy(soft.astype(np.uint8)), 0.5)):
            metric = METRICS.build(dict(type='AmodalCocoMetric', ann_file=ann_file,
                                        mask_thr_binary=thr))
            metric.process({}, [_sample(masks)])
            results.append(metric.results[0])
        for key in ('amodal', 'visible', 'invisible'):
            assert results[1][key] == results[0][key]
        np.testing.assert_array_equal(rle_to_mask(results[1]['amodal'][0]), binary[0])


def test_random_scene_round_trips_through_a_validated_results_file(tmp_path):
    anns, images, cats, dets = random_scene(70, num_images=4)
    ann_file, results_file = tmp_path / 'gt.json', tmp_path / 'results.json'
    ann_file.write_text(json.dumps(to_annotation_file(anns, images, cats)))
    results_file.write_text(json.dumps(dets.to_json()))
    again = load_amodal_results(str(results_file), load_amodal_coco(str(ann_file)))
    assert again.to_json() == dets.to_json()
