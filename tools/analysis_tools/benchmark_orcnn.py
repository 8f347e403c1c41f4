"""Time ORCNN against mmdet's Mask R-CNN with the same backbone, side by side in one process
(:mod:`mmorcnn.analysis.benchmark_orcnn`): medians and spreads of alternating repetitions, the
floor (Mask R-CNN plus one mask head), ORCNN's excess over it, its noise and the verdict.

    python tools/analysis_tools/benchmark_orcnn.py            # R50-FPN, 800x1088, 100 detections
    python tools/analysis_tools/benchmark_orcnn.py --skip-train --iters 8   # inference only
    python tools/analysis_tools/benchmark_orcnn.py --mrcnn-config A.py --orcnn-config B.py
"""
from typing import List, Optional

from mmorcnn.analysis.benchmark_orcnn import (OrcnnBenchmarkSettings, benchmark_parser,
                                              run_benchmark_orcnn)


def main(argv: Optional[List[str]] = None) -> None:
    args = benchmark_parser('ORCNN vs Mask R-CNN speed').parse_args(argv)
    run_benchmark_orcnn(OrcnnBenchmarkSettings(**vars(args)))


if __name__ == '__main__':
    main()
