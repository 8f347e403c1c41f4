"""Where ORCNN's time goes beside Mask R-CNN's (:mod:`mmorcnn.analysis.profile_orcnn`): the
seconds of each stage of an inference and of a train step, and the one-pass paste of the three
kinds of mask against mmdet's paste once per head.

    python tools/analysis_tools/profile_orcnn.py               # R50-FPN, 800x1088, 100 detections
    python tools/analysis_tools/profile_orcnn.py --skip-train  # inference only
"""
from typing import List, Optional

from mmorcnn.analysis.benchmark_orcnn import OrcnnBenchmarkSettings, benchmark_parser
from mmorcnn.analysis.profile_orcnn import run_profile_orcnn


def main(argv: Optional[List[str]] = None) -> None:
    parser = benchmark_parser('where ORCNN\'s inference and train step time goes')
    parser.add_argument('--repeats', type=int, default=3, help='profiled runs per model and mode')
    args = vars(parser.parse_args(argv))
    repeats = args.pop('repeats')
    run_profile_orcnn(OrcnnBenchmarkSettings(**args), repeats)


if __name__ == '__main__':
    main()
