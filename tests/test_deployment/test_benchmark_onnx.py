"""tools/analysis_tools/benchmark_onnx.py: PyTorch and ONNX Runtime (default threads, one
thread) timed alternately on the same model and input, each keeping the asked detections."""
import os.path as osp

import mmorcnn  # noqa: F401
from mmorcnn.analysis.benchmark_onnx import OnnxBenchmarkSettings, run_benchmark_onnx

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ORCNN = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')


def test_every_backend_is_timed_once_per_repetition_with_paired_ratios(capsys):
    times = run_benchmark_onnx(OnnxBenchmarkSettings(
        config=ORCNN, shape=(96, 128), detections=5, iters=2, warmup=0))
    assert list(times) == ['PyTorch', 'ONNX Runtime', 'ONNX Runtime, 1 thread']
    assert all(len(seconds) == 2 and min(seconds) > 0 for seconds in times.values())
    printed = capsys.readouterr().out
    assert 'input [96, 128], 5 detections, 2 alternating repetitions' in printed
    assert 'ONNX Runtime, 1 thread / PyTorch: ' in printed
