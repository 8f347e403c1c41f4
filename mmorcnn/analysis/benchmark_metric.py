"""Time the amodal metric against one pycocotools and one faster-coco-eval segm evaluation.

Random amodal scenes (``num_images`` images of ``height`` x ``width`` with ``gt_per_image``
objects, about half of them occluded, and ``dets_per_image`` detections of which most lie near an
object) are built once as RLEs. Then, on the same detections:

* the metric: :func:`mmorcnn.evaluation.functional.evaluate_amodal`, i.e. every key AmodalCocoMetric
  reports (AP_AV / AP_A / AP_V with _50, _75 and AR, all and occluded, AP_IV@0.5, the occlusion
  levels), from the RLEs that ``process()`` keeps;
* pycocotools: ``COCO.loadRes`` + ``COCOeval(..., 'segm')`` ``evaluate`` + ``accumulate`` on the
  amodal masks (AP_A only);
* faster-coco-eval (when installed): the same with its C++ ``COCOeval_faster``.

The benchmark prints each time, the ratios, and checks that the metric's AP_A equals pycocotools'.
"""
import contextlib
import copy
import io
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np
import pycocotools.mask as maskUtils
from mmengine.utils import ProgressBar
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from mmorcnn.evaluation.functional import AmodalDetections, evaluate_amodal
from mmorcnn.evaluation.functional.amodal_table import format_amodal_table
from .spread import Spread


@dataclass
class MetricBenchmarkScenes:
    """The random scenes the benchmark evaluates (see the module docstring)."""
    num_images: int = 2000
    dets_per_image: int = 100
    gt_per_image: int = 8
    num_classes: int = 20
    height: int = 480
    width: int = 640
    seed: int = 0


def _polygon(rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float,
             jitter: float = 0.) -> np.ndarray:
    """A 12-gon around (cx, cy), optionally with jittered vertices, as ``(12, 2)``."""
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False) + rng.uniform(0, 0.5)
    radius = 1 + jitter * rng.standard_normal(12)
    return np.stack([cx + rx * radius * np.cos(angles), cy + ry * radius * np.sin(angles)], 1)


def _clip(poly: np.ndarray, point: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """The part of a convex polygon on the side ``(p - point) . normal >= 0`` (Sutherland-
    Hodgman against one half-plane)."""
    side = (poly - point) @ normal
    out = []
    for i in range(len(poly)):
        j = (i + 1) % len(poly)
        if side[i] >= 0:
            out.append(poly[i])
        if (side[i] >= 0) != (side[j] >= 0):
            t = side[i] / (side[i] - side[j])
            out.append(poly[i] + t * (poly[j] - poly[i]))
    return np.asarray(out).reshape(-1, 2)


def _three_masks(rng: np.random.Generator, poly: np.ndarray, occluded: bool,
                 cut: Tuple[np.ndarray, np.ndarray]) -> List[np.ndarray]:
    """Amodal, visible and invisible polygons: an occluded object loses the part beyond a cut."""
    if not occluded:
        return [poly, poly, np.zeros((0, 2))]
    point, normal = cut
    return [poly, _clip(poly, point, normal), _clip(poly, point, -normal)]


def _rles(polys: List[np.ndarray], h: int, w: int, empty: dict) -> List[dict]:
    """Compressed RLEs (str counts) of polygons; fewer than 3 points gives the empty mask."""
    valid = [i for i, p in enumerate(polys) if len(p) >= 3]
    out = [empty] * len(polys)
    if valid:
        encoded = maskUtils.frPyObjects([polys[i].ravel().tolist() for i in valid], h, w)
        for i, rle in zip(valid, encoded):
            out[i] = {'size': [h, w], 'counts': rle['counts'].decode('ascii')}
    return out


def make_data(scenes: MetricBenchmarkScenes) -> Tuple[Dict[int, List[dict]], List[dict], List[dict],
                                                 AmodalDetections]:
    """Ground truth (parsed annotations per image), image and category records, detections."""
    rng = np.random.default_rng(scenes.seed)
    h, w = scenes.height, scenes.width
    empty = {'size': [h, w],
             'counts': maskUtils.encode(np.zeros((h, w, 1), np.uint8, order='F'))[0]
             ['counts'].decode('ascii')}
    categories = [dict(id=k + 1, name=f'class{k + 1}') for k in range(scenes.num_classes)]
    images = [dict(id=i + 1, file_name=f'{i + 1}.png', height=h, width=w)
              for i in range(scenes.num_images)]
    anns_by_image = {}
    cols = dict(image_ids=[], category_ids=[], scores=[], amodal=[], visible=[], invisible=[])
    ann_id = 1
    progress = ProgressBar(scenes.num_images)
    for img in images:
        objects = []
        for _ in range(scenes.gt_per_image):
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            rx, ry = rng.uniform(10, w / 6), rng.uniform(10, h / 6)
            angle = rng.uniform(0, 2 * np.pi)
            normal = np.array([np.cos(angle), np.sin(angle)])
            cut = (np.array([cx, cy]) + normal * rng.uniform(-0.2, 0.8) * min(rx, ry), normal)
            occluded = rng.random() < 0.5
            objects.append((cx, cy, rx, ry, occluded, cut, int(rng.integers(scenes.num_classes))))
        polys = [_three_masks(rng, _polygon(rng, *o[:4]), o[4], o[5]) for o in objects]
        masks = [_rles([p[k] for p in polys], h, w, empty) for k in range(3)]
        anns = []
        for n, o in enumerate(objects):
            amodal_area, invisible_area = maskUtils.area(
                [{'size': [h, w], 'counts': masks[k][n]['counts'].encode()} for k in (0, 2)])
            if amodal_area == 0:
                continue
            anns.append(dict(id=ann_id, image_id=img['id'], category_id=o[6] + 1,
                             iscrowd=int(rng.random() < 0.02), area=float(amodal_area),
                             occlude_rate=float(invisible_area / amodal_area),
                             amodal=masks[0][n], visible=masks[1][n], invisible=masks[2][n]))
            ann_id += 1
        anns_by_image[img['id']] = anns

        det_polys, det_cats = [], []
        for _ in range(scenes.dets_per_image):
            if objects and rng.random() < 0.7:  # a (more or less good) detection of an object
                cx, cy, rx, ry, occluded, (point, normal), cat = objects[rng.integers(
                    len(objects))]
                s = rng.uniform(0.02, 0.25)
                poly = _polygon(rng, cx + s * rx * rng.standard_normal(),
                                cy + s * ry * rng.standard_normal(), rx * (1 + s * rng.
                                                                           standard_normal()),
                                ry * (1 + s * rng.standard_normal()), jitter=s / 2)
                cut = (point + s * min(rx, ry) * rng.standard_normal(2), normal)
                det_polys.append(_three_masks(rng, poly, occluded or rng.random() < 0.2, cut))
                det_cats.append(cat if rng.random() < 0.9 else int(rng.integers(
                    scenes.num_classes)))
            else:  # a false positive somewhere
                poly = _polygon(rng, rng.uniform(0, w), rng.uniform(0, h),
                                rng.uniform(8, w / 8), rng.uniform(8, h / 8))
                angle = rng.uniform(0, 2 * np.pi)
                normal = np.array([np.cos(angle), np.sin(angle)])
                det_polys.append(_three_masks(rng, poly, rng.random() < 0.5,
                                              (poly.mean(0), normal)))
                det_cats.append(int(rng.integers(scenes.num_classes)))
        det_masks = [_rles([p[k] for p in det_polys], h, w, empty) for k in range(3)]
        cols['image_ids'] += [img['id']] * len(det_polys)
        cols['category_ids'] += [c + 1 for c in det_cats]
        cols['scores'] += rng.random(len(det_polys)).tolist()
        for key, masks_k in zip(('amodal', 'visible', 'invisible'), det_masks):
            cols[key] += masks_k
        progress.update()
    sys.stdout.write('\n')
    return anns_by_image, images, categories, AmodalDetections(**cols)


def time_metric(anns_by_image, categories, dets) -> Tuple[float, dict]:
    """Seconds of :func:`evaluate_amodal` (every key) and its metrics."""
    start = time.perf_counter()
    result = evaluate_amodal(anns_by_image, categories, dets, logger='silent')
    return time.perf_counter() - start, result.metrics


def coco_inputs(anns_by_image, images, categories, dets) -> Tuple[dict, List[dict]]:
    """The ground truth and the detections as pycocotools reads them (amodal masks)."""
    gt = dict(images=images, categories=categories, annotations=[
        dict(id=a['id'], image_id=a['image_id'], category_id=a['category_id'],
             iscrowd=a['iscrowd'], area=a['area'], segmentation=a['amodal'])
        for anns in anns_by_image.values() for a in anns])
    results = [dict(image_id=int(dets.image_ids[i]), category_id=int(dets.category_ids[i]),
                    score=float(dets.scores[i]), segmentation=dict(dets.amodal[i]))
               for i in range(len(dets))]
    return gt, results


def time_cocoeval(coco_cls, eval_cls, gt: dict, results: List[dict]) -> Tuple[float, float]:
    """Seconds of loadRes + evaluate + accumulate, and the resulting AP (summarize)."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = coco_cls()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        results = copy.deepcopy(results)  # loadRes writes into the result dicts
        start = time.perf_counter()
        ev = eval_cls(coco_gt, coco_gt.loadRes(results), 'segm')
        ev.evaluate()
        ev.accumulate()
        seconds = time.perf_counter() - start
        ev.summarize()
    return seconds, float(ev.stats[0])


def run_benchmark_metric(scenes: MetricBenchmarkScenes, faster_coco_eval: bool = True,
                         repeats: int = 3) -> Dict[str, List[float]]:
    """Time the metric, pycocotools and (when installed and ``faster_coco_eval``)
    faster-coco-eval on the same random scenes, ``repeats`` times in turn; print the median and
    the spread of each one's seconds and of the paired ratios, and the AP_A differences.

    Returns:
        dict: The seconds of each repetition of each evaluation.
    """
    print(f'building {scenes.num_images} images x {scenes.dets_per_image} detections '
          f'({scenes.height}x{scenes.width}, {scenes.gt_per_image} objects per image, '
          f'{scenes.num_classes} classes)')
    anns_by_image, images, categories, dets = make_data(scenes)
    gt, results = coco_inputs(anns_by_image, images, categories, dets)

    evaluations = {
        'AmodalCocoMetric (all keys)': lambda: time_metric(anns_by_image, categories, dets),
        'pycocotools COCOeval segm': lambda: time_cocoeval(COCO, COCOeval, gt, results),
    }
    if faster_coco_eval:
        try:
            from faster_coco_eval import COCO as FasterCOCO
            from faster_coco_eval import COCOeval_faster
        except ImportError:
            print('faster-coco-eval is not installed: pip install faster-coco-eval')
        else:
            evaluations['faster-coco-eval COCOeval_faster segm'] = lambda: time_cocoeval(
                FasterCOCO, COCOeval_faster, gt, results)
    seconds: Dict[str, List[float]] = {name: [] for name in evaluations}
    outputs = {}
    for _ in range(repeats):
        for name, evaluate in evaluations.items():
            elapsed, outputs[name] = evaluate()
            seconds[name].append(elapsed)
    metric = 'AmodalCocoMetric (all keys)'
    metrics = outputs[metric]
    print(format_amodal_table(metrics))
    for name, ap in outputs.items():
        if name != metric:
            print(f'AP_A - {name.split(" COCOeval")[0]} AP: {metrics["AP_A"] - ap:.2e}')

    print(f'\n{len(dets)} detections, {sum(map(len, anns_by_image.values()))} objects; seconds '
          f'and metric / this: median (min-max, IQR) of {repeats} repetitions in turn')
    for name, times in seconds.items():
        ratio = Spread.of([m / t for m, t in zip(seconds[metric], times)])
        print(f'{name:40s} {Spread.of(times).format(2)}  metric / this {ratio.format(2)}')
    return seconds
