"""Evaluate a saved amodal results file against an annotation file, as AmodalCocoMetric does.

    python tools/analysis_tools/eval_amodal.py GT.json RESULTS.json [--out metrics.json] \
        [--plot-dir plots]

GT.json is in the canonical amodal format (docs/annotation_format.md); RESULTS.json is the file
that ``AmodalCocoMetric(format_only=True, outfile_prefix=P)`` writes as ``P.amodal.json``. The
tool prints the same tables as the metric and can write the ``amodal/*`` keys to a JSON file and,
with ``--plot-dir``, the precision-recall curves of A, V, AV (all and occluded objects) and
occluded IV to ``PLOT_DIR/pr_curves.png`` (:mod:`mmorcnn.analysis.eval_amodal`).
A bad input file ends the tool with an ``AmodalAnnotationError`` / ``AmodalResultsError`` naming
the file, the image, annotation or entry, and what is wrong.
"""
import argparse

from mmorcnn.analysis.eval_amodal import evaluate_results_file
from mmorcnn.structures import exit_on_bad_input


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
    return evaluate_results_file(
        args.ann_file, args.results, class_agnostic=args.class_agnostic,
        classwise=args.classwise, max_dets=args.max_dets,
        things_stuff={'auto': None, 'on': True, 'off': False}[args.things_stuff],
        occlusion_levels=not args.no_occlusion_levels,
        literature_protocols=not args.no_literature_protocols, on_error=args.on_error,
        prefix=args.prefix, out_file=args.out, plot_dir=args.plot_dir)


if __name__ == '__main__':
    exit_on_bad_input(main)
