"""Write the ground truth of an annotation file as an amodal results file (a sanity check).

    python tools/analysis_tools/gt_as_results.py GT.json OUT.amodal.json [--swap-occluded]
    python tools/analysis_tools/eval_amodal.py GT.json OUT.amodal.json

Evaluated against the same file it gives 1 for every AP and for ``order_acc`` / ``order_F1``;
``--swap-occluded`` reverses the occlusion relations (see :mod:`mmorcnn.analysis.gt_as_results`).
"""
import argparse
import sys

from mmorcnn.analysis.gt_as_results import write_ground_truth_results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file', help='annotation file in the canonical amodal format')
    parser.add_argument('out_file', help='results file to write')
    parser.add_argument('--swap-occluded', action='store_true',
                        help='swap the visible and invisible masks of every occluded object')
    args = parser.parse_args(argv)
    detections = write_ground_truth_results(args.ann_file, args.out_file, args.swap_occluded)
    swapped = ' (visible and invisible masks of occluded objects swapped)' \
        if args.swap_occluded else ''
    print(f'{len(detections)} ground-truth objects written to {args.out_file}{swapped}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
