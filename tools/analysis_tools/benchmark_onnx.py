"""Time ORCNN's inference in ONNX Runtime (CPU provider, default threads and one thread) against
PyTorch, side by side in one process (:mod:`mmorcnn.analysis.benchmark_onnx`): medians, spreads
and paired ratios of alternating repetitions on the inference benchmark's input.

    python tools/analysis_tools/benchmark_onnx.py             # R50-FPN, 800x1088, 100 detections
    python tools/analysis_tools/benchmark_onnx.py --iters 20 --config B.py
"""
from typing import List, Optional

from mmorcnn.analysis.benchmark_onnx import (OnnxBenchmarkSettings, benchmark_parser,
                                             run_benchmark_onnx)


def main(argv: Optional[List[str]] = None) -> None:
    args = benchmark_parser('ORCNN in ONNX Runtime vs PyTorch speed').parse_args(argv)
    run_benchmark_onnx(OnnxBenchmarkSettings(**vars(args)))


if __name__ == '__main__':
    main()
