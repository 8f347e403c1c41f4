"""order_acc and order_F1: a brute-force reference, perfect and swapped masks, cycles and ties,
the -1 cases, and eval_amodal.py on the synthetic validation set."""
import logging
from typing import Dict, List

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from mmorcnn.datasets.synthetic import generate_split
from mmorcnn.evaluation.functional import AmodalDetections, evaluate_amodal
from mmorcnn.structures import mask_to_rle, occluder_ids, occlusion_graph, rle_to_bbox
from mmorcnn.structures.mask_utils import rle_to_mask
from .amodal_random_data import random_scene, to_coco_gt, to_coco_results


def silent() -> logging.Logger:
    logger = logging.getLogger('test_occlusion_order_eval')
    logger.setLevel(logging.ERROR)
    return logger


def order_keys(anns_by_image, categories, dets, **kwargs) -> Dict[str, float]:
    metrics = evaluate_amodal(anns_by_image, categories, dets, logger=silent(), **kwargs).metrics
    return {key: metrics[key] for key in ('order_acc', 'order_F1')}


def with_occluder_ids(anns_by_image: Dict[int, List[dict]]) -> Dict[int, List[dict]]:
    """Ground truth whose ``occluder_ids`` are the rule on its own masks (as converters write)."""
    for anns in anns_by_image.values():
        if not anns:
            continue
        graph = occlusion_graph(np.stack([rle_to_mask(a['amodal']) for a in anns]),
                                np.stack([rle_to_mask(a['visible']) for a in anns]))
        for ann, ids in zip(anns, occluder_ids([a['id'] for a in anns], graph.occluders)):
            ann['occluder_ids'] = ids
    return anns_by_image


def _hides(dets: AmodalDetections, front: int, back: int) -> bool:
    """The rule for one pair, written out in pixels: does detection ``front`` hide ``back``?"""
    vis_f, inv_f = rle_to_mask(dets.visible[front]) > 0, rle_to_mask(dets.invisible[front]) > 0
    vis_b, inv_b = rle_to_mask(dets.visible[back]) > 0, rle_to_mask(dets.invisible[back]) > 0
    on_front, on_back = int((inv_b & vis_f).sum()), int((inv_f & vis_b).sum())

    def passes(overlap, invisible):
        return overlap > 0 and overlap >= 4 and overlap >= 0.05 * invisible.sum()

    return passes(on_front, inv_b) and (not passes(on_back, inv_f) or on_front > on_back)


def brute_force_order(anns_by_image, images, categories, dets: AmodalDetections,
                      class_agnostic: bool = False) -> Dict[str, float]:
    """order_acc / order_F1 from the definitions, with pycocotools' own matching at IoU 0.5."""
    coco = COCO()
    coco.dataset = to_coco_gt(anns_by_image, images, categories, 'amodal')
    coco.createIndex()
    det_of_gt = {}
    if len(dets):
        ev = COCOeval(coco, coco.loadRes(to_coco_results(dets, 'amodal')), 'segm')
        ev.params.useCats = int(not class_agnostic)
        ev.evaluate()
        for e in ev.evalImgs:
            if e is None or e['aRng'] != [0, 1e10]:
                continue
            for k, dt_id in enumerate(e['dtIds']):
                gt_id = int(e['dtMatches'][0, k])  # IoU threshold 0.5
                if gt_id and not e['dtIgnore'][0, k]:
                    det_of_gt[gt_id] = dt_id - 1  # loadRes numbers results 1, 2, ...
    relations, gt_edges, pred_edges = 0, set(), set()
    for anns in anns_by_image.values():
        objects = [a for a in anns if not a['iscrowd']]
        ids = {a['id'] for a in objects}
        relations += sum(o in ids and o != a['id'] for a in objects
                         for o in a.get('occluder_ids') or [])
        matched = [a for a in objects if a['id'] in det_of_gt]
        for back in matched:
            for front in matched:
                if back is front:
                    continue
                if front['id'] in (back.get('occluder_ids') or []):
                    gt_edges.add((back['id'], front['id']))
                if _hides(dets, det_of_gt[front['id']], det_of_gt[back['id']]):
                    pred_edges.add((back['id'], front['id']))
    if relations == 0:
        return dict(order_acc=-1., order_F1=-1.)
    correct = len(gt_edges & pred_edges)
    total = len(gt_edges) + len(pred_edges)
    return dict(order_acc=correct / len(gt_edges) if gt_edges else 0.,
                order_F1=2 * correct / total if total else 0.)


def ground_truth_as_detections(anns_by_image, swap_occluded: bool = False) -> AmodalDetections:
    """The ground truth's own masks as detections (distinct scores); with ``swap_occluded``,
    each occluded object's visible and invisible masks swapped."""
    cols = dict(image_ids=[], category_ids=[], scores=[], amodal=[], visible=[], invisible=[])
    for anns in anns_by_image.values():
        for a in anns:
            if a['iscrowd']:
                continue
            swap = swap_occluded and a['occlude_rate'] > 0
            cols['image_ids'].append(a['image_id'])
            cols['category_ids'].append(a['category_id'])
            cols['scores'].append(1. - 1e-3 * len(cols['scores']))
            cols['amodal'].append(a['amodal'])
            cols['visible'].append(a['invisible'] if swap else a['visible'])
            cols['invisible'].append(a['visible'] if swap else a['invisible'])
    return AmodalDetections(**cols)


class TestOrderMatchesBruteForce:

    @pytest.mark.parametrize('seed', [0, 1, 2, 3])
    @pytest.mark.parametrize('class_agnostic', [False, True])
    def test_random_scenes(self, seed, class_agnostic):
        anns, images, cats, dets = random_scene(seed, num_images=8)
        anns = with_occluder_ids(anns)
        expected = brute_force_order(anns, images, cats, dets, class_agnostic)
        assert 0 < expected['order_acc'] < 1 or 0 < expected['order_F1'] < 1  # not degenerate
        got = order_keys(anns, cats, dets, class_agnostic=class_agnostic)
        assert got == pytest.approx(expected, abs=1e-12)


class TestPerfectAndSwappedMasks:

    def test_ground_truth_masks_as_detections_give_one(self):
        anns, _, cats, _ = random_scene(5, num_images=10)
        anns = with_occluder_ids(anns)
        assert order_keys(anns, cats, ground_truth_as_detections(anns)) == \
            dict(order_acc=1., order_F1=1.)

    def test_swapping_visible_and_invisible_masks_lowers_order_acc(self):
        anns, _, cats, _ = random_scene(5, num_images=10)
        anns = with_occluder_ids(anns)
        swapped = order_keys(anns, cats, ground_truth_as_detections(anns, swap_occluded=True))
        assert swapped['order_acc'] < 0.5 and swapped['order_F1'] < 1


def _patch(y, x, size=5, shape=(40, 40)):
    m = np.zeros(shape, bool)
    m[y:y + size, x:x + size] = True
    return m


def _scene(amodal, visible, occluders, ids=(1, 2, 3)):
    """One image: ground truth with the given masks and occluder ids, and the same masks as
    detections (so that every object is matched)."""
    anns = []
    for k, (a, v) in enumerate(zip(amodal, visible)):
        rle = mask_to_rle(a)
        anns.append(dict(id=ids[k], image_id=1, category_id=1, iscrowd=0, bbox=rle_to_bbox(rle),
                         area=float(a.sum()), occlude_rate=float((a & ~v).sum() / a.sum()),
                         amodal=rle, visible=mask_to_rle(v), invisible=mask_to_rle(a & ~v),
                         occluder_ids=occluders[k]))
    return {1: anns}, [dict(id=1, name='thing')]


class TestCyclesAndTies:

    def test_a_cycle_is_scored_edge_by_edge(self):
        # a's hidden part P1 lies on b's visible part, b's P2 on c's, c's P3 on a's
        p1, p2, p3 = _patch(0, 17), _patch(34, 0), _patch(34, 34)
        core = [_patch(10, 5, 8), _patch(10, 25, 8), _patch(25, 15, 8)]
        amodal = [p1 | p3 | core[0], p1 | p2 | core[1], p2 | p3 | core[2]]
        visible = [p3 | core[0], p1 | core[1], p2 | core[2]]
        anns, cats = _scene(amodal, visible, [[2], [3], [1]])
        dets = ground_truth_as_detections(anns)
        assert order_keys(anns, cats, dets) == dict(order_acc=1., order_F1=1.)
        # the ground truth says only "b hides a": the other two predicted edges are spurious
        anns, cats = _scene(amodal, visible, [[2], [], []])
        assert order_keys(anns, cats, dets) == pytest.approx(dict(order_acc=1., order_F1=0.5))

    @pytest.mark.parametrize('size_q2, expected', [(5, 0.), (4, 1.)])
    def test_a_tie_is_no_relation(self, size_q2, expected):
        # a's hidden part Q1 lies on b's visible part and b's hidden part Q2 on a's: equal
        # overlaps tie (no predicted relation), a smaller Q2 leaves "b hides a"
        q1, q2 = _patch(0, 0), _patch(20, 20, size_q2)
        amodal = [q1 | q2 | _patch(5, 5, 10), q1 | q2 | _patch(25, 25, 10)]
        visible = [q2 | _patch(5, 5, 10), q1 | _patch(25, 25, 10)]
        anns, cats = _scene(amodal, visible, [[2], []])
        assert order_keys(anns, cats, ground_truth_as_detections(anns)) == \
            dict(order_acc=expected, order_F1=expected)


class TestNotEvaluable:

    def test_ground_truth_without_relations_gives_minus_one(self):
        anns, _, cats, dets = random_scene(7, num_images=5)  # no occluder_ids at all
        assert order_keys(anns, cats, dets) == dict(order_acc=-1., order_F1=-1.)
        for image in anns.values():
            for a in image:
                a['occluder_ids'] = []
        assert order_keys(anns, cats, dets) == dict(order_acc=-1., order_F1=-1.)

    def test_detections_without_visible_masks_give_minus_one_with_a_warning(self, caplog):
        anns, _, cats, dets = random_scene(7, num_images=5, dets_visible=False)
        anns = with_occluder_ids(anns)
        with caplog.at_level(logging.WARNING, logger='test_order_warning'):
            metrics = evaluate_amodal(anns, cats, dets,
                                      logger=logging.getLogger('test_order_warning')).metrics
        assert (metrics['order_acc'], metrics['order_F1']) == (-1., -1.)
        assert 'no visible and invisible masks' in caplog.text

    def test_no_detections_give_zero(self):
        anns, _, cats, dets = random_scene(7, num_images=5)
        anns = with_occluder_ids(anns)
        empty = AmodalDetections(image_ids=[], category_ids=[], scores=[], amodal=[],
                                 visible=[], invisible=[])
        assert order_keys(anns, cats, empty) == dict(order_acc=0., order_F1=0.)


def test_eval_amodal_on_synthetic_ground_truth_masks(tmp_path, capsys):
    """The ground truth's own masks (gt_as_results.py) give 1, swapped masks less."""
    from mmorcnn.analysis.eval_amodal import evaluate_results_file
    from mmorcnn.analysis.gt_as_results import write_ground_truth_results
    generate_split(str(tmp_path), 'val', 12, seed=0)
    ann_file = str(tmp_path / 'annotations' / 'val.json')
    scores = {}
    for swap in (False, True):
        results = str(tmp_path / f'results_{swap}.json')
        assert len(write_ground_truth_results(ann_file, results, swap_occluded=swap)) > 0
        scores[swap] = evaluate_results_file(ann_file, results)
    assert scores[False]['amodal/order_acc'] == 1. and scores[False]['amodal/order_F1'] == 1.
    assert scores[False]['amodal/AP_AV'] == 1.
    assert scores[True]['amodal/order_acc'] < 1. and scores[True]['amodal/order_F1'] < 1.
