"""Time ORCNN against mmdet's Mask R-CNN with the same backbone, side by side in one process
(:mod:`mmorcnn.analysis.benchmark_orcnn`): medians and spreads of alternating repetitions, the
floor (Mask R-CNN plus one mask head), ORCNN's excess over it, its noise and the verdict.

    python tools/analysis_tools/benchmark_orcnn.py            # R50-FPN, 800x1088, 100 detections
    python tools/analysis_tools/benchmark_orcnn.py --skip-train --iters 8   # inference only
    python tools/analysis_tools/benchmark_orcnn.py --mrcnn-config A.py --orcnn-config B.py
"""
import argparse
from typing import List, Optional

import torch

from mmorcnn.analysis.benchmark_orcnn import (DEFAULT_MRCNN_CONFIG, DEFAULT_ORCNN_CONFIG,
                                              TOLERANCE, OrcnnBenchmarkSettings,
                                              run_benchmark_orcnn)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='ORCNN vs Mask R-CNN speed')
    parser.add_argument('--mrcnn-config', default=DEFAULT_MRCNN_CONFIG,
                        help='a Mask R-CNN config (AmodalMRCNN is mmdet\'s Mask R-CNN, unchanged)')
    parser.add_argument('--orcnn-config', default=DEFAULT_ORCNN_CONFIG,
                        help='the ORCNN config with the same backbone')
    parser.add_argument('--shape', type=int, nargs=2, default=[800, 1088],
                        help='input height and width (default: the paper\'s 800 short side)')
    parser.add_argument('--detections', type=int, default=100,
                        help='detections per image at inference')
    parser.add_argument('--num-gts', type=int, default=10, help='GT instances per train image')
    parser.add_argument('--iters', type=int, default=10,
                        help='timed alternating repetitions of each model and mode')
    parser.add_argument('--warmup', type=int, default=2, help='untimed repetitions first')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--skip-train', action='store_true', help='time inference only')
    parser.add_argument('--tolerance', type=float, default=TOLERANCE,
                        help='the goal: ORCNN inference at most this far above the floor')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    run_benchmark_orcnn(OrcnnBenchmarkSettings(**vars(parse_args(argv))))


if __name__ == '__main__':
    main()
