"""Time the amodal metric against one pycocotools and one faster-coco-eval segm evaluation.

Random amodal scenes (``--num-images`` images of ``--height`` x ``--width`` with
``--gt-per-image`` objects, about half of them occluded, and ``--dets-per-image`` detections of
which most lie near an object) are built once as RLEs. Then, on the same detections:

* the metric: :func:`mmorcnn.evaluation.functional.evaluate_amodal`, i.e. every key AmodalCocoMetric
  reports (AP_AV / AP_A / AP_V with _50, _75 and AR, all and occluded, AP_IV@0.5, the occlusion
  levels), from the RLEs that ``process()`` keeps;
* pycocotools: ``COCO.loadRes`` + ``COCOeval(..., 'segm')`` ``evaluate`` + ``accumulate`` on the
  amodal masks (AP_A only);
* faster-coco-eval (when installed): the same with its C++ ``COCOeval_faster``.

The tool prints each time, the ratios, and checks that the metric's AP_A equals pycocotools'.

    python tools/analysis_tools/benchmark_metric.py                     # 2000 images x 100
    python tools/analysis_tools/benchmark_metric.py --num-images 200    # a quick look
"""
import argparse

from mmorcnn.analysis.benchmark_metric import MetricBenchmarkScenes, run_benchmark_metric


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Time AmodalCocoMetric against COCOeval')
    parser.add_argument('--num-images', type=int, default=2000)
    parser.add_argument('--dets-per-image', type=int, default=100)
    parser.add_argument('--gt-per-image', type=int, default=8)
    parser.add_argument('--num-classes', type=int, default=20)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--no-faster-coco-eval', action='store_true',
                        help='skip faster-coco-eval even when it is installed')
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed repetitions of every evaluation, in turn')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    scenes = MetricBenchmarkScenes(
        num_images=args.num_images, dets_per_image=args.dets_per_image,
        gt_per_image=args.gt_per_image, num_classes=args.num_classes, height=args.height,
        width=args.width, seed=args.seed)
    run_benchmark_metric(scenes, faster_coco_eval=not args.no_faster_coco_eval,
                         repeats=args.repeats)


if __name__ == '__main__':
    main()
