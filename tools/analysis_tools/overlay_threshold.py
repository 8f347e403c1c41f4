"""Which score threshold keeps an overlay free of duplicate detections: per threshold, the
detections drawn per image, the duplicates among them and the ground truth they still find.

    python tools/analysis_tools/overlay_threshold.py GT.json RESULTS.json [--thrs 0.3 0.4 0.5]

RESULTS.json is the file ``AmodalCocoMetric(outfile_prefix=P)`` writes (``P.amodal.json``), e.g.
``mim test mmorcnn CONFIG --checkpoint CKPT --cfg-options test_evaluator.outfile_prefix=P``.
Duplicates and found objects are defined in :mod:`mmorcnn.analysis.overlay_threshold`.
"""
import argparse
import sys

from mmorcnn.analysis.overlay_threshold import DEFAULT_THRS, threshold_report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file', help='annotation file in the canonical amodal format')
    parser.add_argument('results', help='results file written by AmodalCocoMetric')
    parser.add_argument('--thrs', type=float, nargs='+', default=list(DEFAULT_THRS))
    args = parser.parse_args(argv)
    print('\n'.join(threshold_report(args.ann_file, args.results, args.thrs)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
