"""Time ORCNN's inference in ONNX Runtime against PyTorch, side by side in one process.

The model is the inference benchmark's (:mod:`~mmorcnn.analysis.benchmark_orcnn`): the R50 ORCNN
config with random weights, keeping exactly ``detections`` detections, on an 800 x 1088 input.
It is exported with :func:`~mmorcnn.deployment.export_model` into a temporary file and run by
ONNX Runtime's CPU provider twice, with its default threads (one per physical core) and with one
thread, against the PyTorch model (torch's default threads). Each run is a whole inference of
one image: the model, the paste of the amodal, visible and invisible masks at the image size and
the occlusion order (in ONNX Runtime: the graph, then the same paste and occlusion order in
Python, :class:`~mmorcnn.apis.OnnxAmodalDetector`).

Every repetition times the three in a row, in turn forwards and backwards, so each repetition
gives one paired ratio per ONNX Runtime setting (its time over PyTorch's); the tool prints the
median and the spread (min-max, interquartile range) of the times and of the ratios.
"""
import argparse
import os.path as osp
import tempfile
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar

from mmdet.structures import DetDataSample
from mmorcnn.apis.onnx_inferencer import OnnxAmodalDetector
from mmorcnn.deployment import export_model
from .benchmark_orcnn import DEFAULT_ORCNN_CONFIG, build_model, predict_run, timed
from .spread import Spread

#: The name of the PyTorch timings.
PYTORCH = 'PyTorch'


@dataclass
class OnnxBenchmarkSettings:
    """What :func:`run_benchmark_onnx` times (the tool's arguments)."""
    config: str = DEFAULT_ORCNN_CONFIG
    shape: Sequence[int] = (800, 1088)
    detections: int = 100
    iters: int = 10
    warmup: int = 2


def benchmark_parser(description: str) -> argparse.ArgumentParser:
    """The command line of the tool: the fields of :class:`OnnxBenchmarkSettings`."""
    defaults = OnnxBenchmarkSettings()
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--config', default=defaults.config, help='the ORCNN config')
    parser.add_argument('--shape', type=int, nargs=2, default=list(defaults.shape),
                        help='input height and width (default: the inference benchmark\'s)')
    parser.add_argument('--detections', type=int, default=defaults.detections,
                        help='detections per image')
    parser.add_argument('--iters', type=int, default=defaults.iters,
                        help='timed alternating repetitions')
    parser.add_argument('--warmup', type=int, default=defaults.warmup,
                        help='untimed repetitions first')
    return parser


def image_and_sample(shape: Sequence[int]):
    """A random image (1 x 3 x H x W, the pipeline's 0-255 values) and its data sample."""
    height, width = shape
    image = torch.from_numpy(
        np.random.RandomState(0).randint(0, 256, (1, 3, height, width)).astype(np.float32))
    sample = DetDataSample(metainfo=dict(
        img_shape=(height, width), ori_shape=(height, width), pad_shape=(height, width),
        batch_input_shape=(height, width), scale_factor=(1.0, 1.0)))
    return image, sample


def onnx_run(model: OnnxAmodalDetector, image: torch.Tensor, sample: DetDataSample,
             detections: int) -> Callable[[], None]:
    """One inference in ONNX Runtime (graph, paste, occlusion order), checking that it keeps
    ``detections``."""

    def run() -> None:
        results = model.predict(model.run(image[0]), sample.metainfo)
        assert len(results) == detections, f'{len(results)} detections instead of {detections}'

    return run


def run_benchmark_onnx(settings: OnnxBenchmarkSettings) -> Dict[str, List[float]]:
    """Time PyTorch and ONNX Runtime (default threads, one thread), see the module docstring,
    and print the medians, spreads and paired ratios.

    Returns:
        dict: Per backend, the seconds of each timed repetition.
    """
    import onnxruntime as ort
    args = settings
    MMLogger.get_instance('benchmark_onnx', log_level='WARNING')  # no weight-init report
    model = build_model(args.config, args.detections, 'cpu').eval()
    cfg = Config.fromfile(args.config)
    cfg.model.test_cfg.rcnn.update(score_thr=0.0, max_per_img=args.detections)
    image, sample = image_and_sample(args.shape)
    with torch.no_grad():
        inputs = model.data_preprocessor(dict(inputs=[image[0]], data_samples=[sample]),
                                         False)['inputs']
    with tempfile.TemporaryDirectory() as tmp:
        onnx_file = osp.join(tmp, 'orcnn.onnx')
        export_model(model, onnx_file, shape=args.shape,
                     config_name=osp.basename(args.config))
        fns = {PYTORCH: predict_run(model, inputs, sample, args.detections)}
        for name, threads in (('ONNX Runtime', 0), ('ONNX Runtime, 1 thread', 1)):
            session = OnnxAmodalDetector(onnx_file, cfg, 'cpu', num_threads=threads)
            fns[name] = onnx_run(session, image, sample, args.detections)
        print(f'CPU, torch {torch.__version__} ({torch.get_num_threads()} threads), '
              f'onnxruntime {ort.__version__}, input {list(args.shape)}, {args.detections} '
              f'detections, {args.iters} alternating repetitions after {args.warmup} warm-up')
        times: Dict[str, List[float]] = {}
        progress = ProgressBar(len(fns) * (args.warmup + args.iters))
        for i in range(args.warmup + args.iters):
            # alternate, in turn forwards and backwards, so that drifts hit all alike
            for name, fn in list(fns.items())[::1 if i % 2 == 0 else -1]:
                seconds = timed(fn, 'cpu')
                if i >= args.warmup:
                    times.setdefault(name, []).append(seconds)
                progress.update()
    times = {name: times[name] for name in fns}
    print('\nseconds per inference: median (min-max, IQR) over the repetitions')
    for name, seconds in times.items():
        print(f'{name:<24} {Spread.of(seconds).format()}')
    for name, seconds in list(times.items())[1:]:
        ratio = Spread.of([o / p for o, p in zip(seconds, times[PYTORCH])])
        print(f'{name} / PyTorch: {ratio.format()}')
    return times
