"""Evaluate a saved amodal results file against an annotation file, as AmodalCocoMetric does.

    python tools/analysis_tools/eval_amodal.py GT.json RESULTS.json [--out metrics.json] \
        [--plot-dir plots]

GT.json is in the canonical amodal format (DESIGN.md section 3); RESULTS.json is the file that
``AmodalCocoMetric(format_only=True, outfile_prefix=P)`` writes as ``P.amodal.json`` (schema in
``mmorcnn/evaluation/functional/amodal_results.py``). The tool prints the same tables as the
metric and can write the ``amodal/*`` keys to a JSON file and, with ``--plot-dir``, the
precision-recall curves of A, V, AV (all and occluded objects) and occluded IV to
``PLOT_DIR/pr_curves.png`` (:func:`mmorcnn.visualization.plot_pr_curves`).
Both files are validated first; a bad one ends the tool with an ``AmodalAnnotationError`` /
``AmodalResultsError`` naming the file, the image, annotation or entry, and what is wrong.
"""
import argparse
import json
import os.path as osp
import sys
import time

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
if osp.isfile(osp.join(REPO_ROOT, 'mmorcnn', '__init__.py')):  # run from a checkout: no install
    sys.path.insert(0, REPO_ROOT)

from mmengine.logging import MMLogger  # noqa: E402

from mmorcnn.datasets.amodal_format import AmodalAnnotationError, load_amodal_coco  # noqa: E402
from mmorcnn.evaluation.functional import (AmodalResultsError, evaluate_amodal,  # noqa: E402
                                           load_amodal_results)
from mmorcnn.evaluation.functional.amodal_table import report_amodal  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Amodal AP / AR of a saved results file')
    parser.add_argument('ann_file', help='annotation file in the canonical amodal format')
    parser.add_argument('results', help='results file written by AmodalCocoMetric')
    parser.add_argument('--class-agnostic', action='store_true',
                        help='match detections to ground truth of any class')
    parser.add_argument('--classwise', action='store_true', help='also report per-class AP')
    parser.add_argument('--max-dets', type=int, default=100,
                        help='detections evaluated per image and class (default 100)')
    parser.add_argument('--things-stuff', choices=['auto', 'on', 'off'], default='auto',
                        help='report things / stuff (auto: when the GT has isstuff)')
    parser.add_argument('--no-occlusion-levels', action='store_true',
                        help='leave out the none / partial / heavy breakdown')
    parser.add_argument('--no-literature-protocols', action='store_true',
                        help='leave out the keys of the later literature (occ15_AP_A, ..., '
                        'AP_A_s, ..., occ_AP_IV, occ_AP_IV75)')
    parser.add_argument('--on-error', choices=['raise', 'skip'], default='raise',
                        help='how bad annotations are treated (default raise)')
    parser.add_argument('--prefix', default='amodal', help='prefix of the keys in --out')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    parser.add_argument('--plot-dir', help='write the precision-recall curves to '
                        'PLOT_DIR/pr_curves.png')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    logger = MMLogger.get_instance('eval_amodal', log_level='INFO')
    gt = load_amodal_coco(args.ann_file, on_error=args.on_error, logger=logger)
    detections = load_amodal_results(args.results, gt)
    logger.info(f'{len(detections)} detections on {len(gt.images)} images')
    start = time.perf_counter()
    evaluation = evaluate_amodal(
        gt.anns_by_image, gt.categories, detections, class_agnostic=args.class_agnostic,
        max_dets=args.max_dets,
        things_stuff={'auto': None, 'on': True, 'off': False}[args.things_stuff],
        occlusion_levels=not args.no_occlusion_levels,
        literature_protocols=not args.no_literature_protocols, classwise=args.classwise,
        logger=logger)
    logger.info(f'evaluated in {time.perf_counter() - start:.2f} s')
    metrics = {f'{args.prefix}/{k}': v for k, v in report_amodal(evaluation, logger).items()}
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=1)
        logger.info(f'metrics written to {args.out}')
    if args.plot_dir:
        from mmorcnn.visualization import plot_pr_curves
        out_file = plot_pr_curves(evaluation, osp.join(args.plot_dir, 'pr_curves.png'),
                                  title=f'{osp.basename(args.results)} on '
                                  f'{osp.basename(args.ann_file)}')
        logger.info(f'precision-recall curves written to {out_file}')
    return metrics


if __name__ == '__main__':
    try:
        main()
    except (AmodalAnnotationError, AmodalResultsError) as e:  # a bad input file: no traceback
        sys.exit(f'{type(e).__name__}: {e}')
