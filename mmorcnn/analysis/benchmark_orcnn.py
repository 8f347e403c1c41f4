"""Time ORCNN against mmdet's Mask R-CNN with the same backbone, side by side in one process.

Both models are built from their configs with the same weights (the Mask R-CNN's mask head also
initialises ORCNN's visible mask head, as tools/model_converters/mask_rcnn_to_orcnn.py does), so
they see the same proposals, keep the same ``--detections`` detections at inference and sample the
same RoIs in training. They run alternately on the same inputs; the tool prints the median time of
an inference and of a train step (forward, backward, SGD step with lr 0 so that every step sees the
same weights) and the ORCNN / Mask R-CNN ratios.

The floor of an ORCNN inference is "Mask R-CNN plus one mask head": ORCNN runs a second mask head
by design (paper 3.1). It is timed as a third model in the same alternation: the same Mask R-CNN
whose mask head runs twice on the same RoI features (:func:`with_extra_mask_head`), so the extra
head runs in the same place of an inference as ORCNN's visible head, with the caches and memory as
they are there. The last lines say how far ORCNN is above it (the occlusion logits, the pastes of
the visible and invisible masks and the occlusion order).

Every repetition times the three in a row (in turn forwards and backwards), so each repetition
gives one paired excess ``(ORCNN - floor) / Mask R-CNN``; the tool prints the median and the
spread (min-max and interquartile range) of those excesses over the repetitions, the goal (excess
at most ``tolerance``, 0.01) and whether the excess is beyond the noise (its lower quartile above
0). Unless ``--release-memory``, glibc's malloc keeps freed memory for reuse
(:func:`keep_freed_memory`), which takes the page faults of every run's fresh buffers, and much of
the run-to-run variation, out of the timings of all models alike.
"""
import argparse
import copy
import ctypes
import ctypes.util
import os.path as osp
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData
from mmengine.utils import ProgressBar

from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks

import mmorcnn  # noqa: F401
from mmorcnn.models.mask_rcnn_to_orcnn import copy_mask_head
from mmorcnn.structures.errors import AmodalError
from mmorcnn.utils import project_path
from .spread import Spread

CONFIG_ROOT = project_path('configs')


def build_model(config: str, detections: int, device: str) -> torch.nn.Module:
    """The config's model, without pretrained weights, keeping exactly ``detections``."""
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None  # nothing is downloaded; weights are random anyway
    cfg.model.test_cfg.rcnn.update(score_thr=0.0, max_per_img=detections)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.to(device)


def share_weights(mrcnn: torch.nn.Module, orcnn: torch.nn.Module) -> None:
    """Give ORCNN the Mask R-CNN's weights; its mask head initialises both mask heads."""
    orcnn.load_state_dict(copy_mask_head(mrcnn.state_dict()))


def make_batch(shape: List[int], num_gts: int, device: str, num_classes: int = 10):
    """A normalised image and its data sample with occluded rectangles as GT, labels below
    ``num_classes``."""
    h, w = shape
    rng = np.random.RandomState(0)
    inputs = torch.from_numpy(rng.randn(1, 3, h, w).astype(np.float32)).to(device)
    amodal = np.zeros((num_gts, h, w), np.uint8)
    visible = np.zeros_like(amodal)
    boxes = []
    for i in range(num_gts):
        x1, y1 = rng.randint(0, w * 3 // 4), rng.randint(0, h * 3 // 4)
        x2, y2 = min(w, x1 + rng.randint(32, w // 4)), min(h, y1 + rng.randint(32, h // 4))
        amodal[i, y1:y2, x1:x2] = 1
        visible[i] = amodal[i]
        visible[i, y1:(y1 + y2) // 2, x1:(x1 + x2) // 2] = 0
        boxes.append([x1, y1, x2, y2])
    sample = DetDataSample(metainfo=dict(
        img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
        scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32),
        labels=torch.from_numpy(rng.randint(0, num_classes, num_gts)),
        masks=BitmapMasks(amodal, h, w),
        visible_masks=BitmapMasks(visible, h, w),
        invisible_masks=BitmapMasks(amodal & (1 - visible), h, w)).to(device)
    sample.ignored_instances = InstanceData(bboxes=torch.zeros(0, 4, device=device))
    return inputs, sample


def timed(fn: Callable[[], None], device: str) -> float:
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def with_extra_mask_head(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` whose mask head runs a second time on the same RoI features at every call, its
    second output unused: a Mask R-CNN plus one mask head, the floor of an ORCNN inference."""

    def run_again(head: torch.nn.Module, args: tuple, output: torch.Tensor) -> None:
        head.forward(*args)  # the forward itself, not the module call: no hook recursion

    model.roi_head.mask_head.register_forward_hook(run_again)
    return model


DEFAULT_MRCNN_CONFIG = osp.join(CONFIG_ROOT, 'amodal_mask_rcnn',
                                'amodal-mask-rcnn_r50_fpn_10k_d2sa.py')
DEFAULT_ORCNN_CONFIG = osp.join(CONFIG_ROOT, 'orcnn', 'orcnn_r50_fpn_10k_d2sa.py')
#: The name of the floor's timings: Mask R-CNN whose mask head runs twice.
FLOOR = 'Mask R-CNN + one mask head'
#: The inference goal: ORCNN at most this far (as a fraction of Mask R-CNN) above the floor.
TOLERANCE = 0.01


@dataclass
class OrcnnBenchmarkSettings:
    """What :func:`run_benchmark_orcnn` times (the tool's arguments)."""
    mrcnn_config: str = DEFAULT_MRCNN_CONFIG
    orcnn_config: str = DEFAULT_ORCNN_CONFIG
    shape: Sequence[int] = (800, 1088)
    detections: int = 100
    num_gts: int = 10
    iters: int = 10
    warmup: int = 2
    device: str = 'cuda' if torch.cuda.is_available() else 'cpu'
    skip_train: bool = False
    tolerance: float = TOLERANCE
    release_memory: bool = False


def benchmark_parser(description: str) -> argparse.ArgumentParser:
    """The command line of the benchmark tools: the fields of :class:`OrcnnBenchmarkSettings`."""
    defaults = OrcnnBenchmarkSettings()
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--mrcnn-config', default=defaults.mrcnn_config,
                        help='a Mask R-CNN config (AmodalMRCNN is mmdet\'s Mask R-CNN, unchanged)')
    parser.add_argument('--orcnn-config', default=defaults.orcnn_config,
                        help='the ORCNN config with the same backbone')
    parser.add_argument('--shape', type=int, nargs=2, default=list(defaults.shape),
                        help='input height and width (default: the paper\'s 800 short side)')
    parser.add_argument('--detections', type=int, default=defaults.detections,
                        help='detections per image at inference')
    parser.add_argument('--num-gts', type=int, default=defaults.num_gts,
                        help='GT instances per train image')
    parser.add_argument('--iters', type=int, default=defaults.iters,
                        help='timed alternating repetitions of each model and mode')
    parser.add_argument('--warmup', type=int, default=defaults.warmup,
                        help='untimed repetitions first')
    parser.add_argument('--device', default=defaults.device)
    parser.add_argument('--skip-train', action='store_true', help='time inference only')
    parser.add_argument('--tolerance', type=float, default=defaults.tolerance,
                        help='the goal: ORCNN inference at most this far above the floor')
    parser.add_argument('--release-memory', action='store_true',
                        help='leave glibc\'s malloc returning freed memory to the system, so '
                        'that every large buffer is faulted in afresh (see keep_freed_memory)')
    return parser


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse in this process.

    By default glibc maps every buffer above 32 MiB afresh and returns it to the system when it
    is freed, so each inference faults in its large buffers page by page again, in the kernel,
    for a share of the CPU time that varies from run to run (docs/benchmarks.md has the
    figures). Without fresh maps and without trimming the heap, the buffers of one run are reused
    by the next: both models run faster and their times vary less, so a small difference between
    them is measurable. The same settings can be given to any process from outside:
    ``GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647``.

    Returns:
        bool: Whether the settings took (False where the C library is not glibc).
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6').mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


def memory_setting(settings: 'OrcnnBenchmarkSettings') -> str:
    """Apply ``settings.release_memory`` (:func:`keep_freed_memory` unless set) and say which
    allocator behaviour the timings are under."""
    if not settings.release_memory and keep_freed_memory():
        return 'malloc keeps freed memory (no trimming, no fresh maps)'
    return 'system malloc defaults'


@dataclass
class InferenceVerdict:
    """ORCNN inference against its floor, from paired repetitions (see the module docstring)."""
    floor: Spread  # (Mask R-CNN + one mask head) / Mask R-CNN
    ratio: Spread  # ORCNN / Mask R-CNN
    excess: Spread  # (ORCNN - (Mask R-CNN + one mask head)) / Mask R-CNN
    tolerance: float

    @property
    def within_goal(self) -> bool:
        """bool: The median excess is at most ``tolerance``."""
        return self.excess.median <= self.tolerance

    @property
    def beyond_noise(self) -> bool:
        """bool: The excess is above 0 in more than three quarters of the repetitions."""
        return self.excess.q1 > 0

    def lines(self) -> List[str]:
        verdict = 'PASS' if self.within_goal else 'FAIL'
        noise = ('beyond the noise (lower quartile above 0)' if self.beyond_noise else
                 'within the noise (lower quartile at or below 0)')
        return [
            f'floor (Mask R-CNN + one mask head) / Mask R-CNN: {self.floor.format()}',
            f'ORCNN / Mask R-CNN:                              {self.ratio.format()}',
            f'excess (ORCNN - floor) / Mask R-CNN:             {self.excess.format(sign=True)}',
            f'noise (IQR width of the excess): {self.excess.q3 - self.excess.q1:.3f}; '
            f'the excess is {noise}',
            f'verdict: {verdict} (median excess {self.excess.median:+.3f} against the goal '
            f'<= {self.tolerance:+.3f})',
        ]


def inference_verdict(mrcnn: Sequence[float], orcnn: Sequence[float], floor: Sequence[float],
                      tolerance: float = TOLERANCE) -> InferenceVerdict:
    """The verdict of paired repetitions: seconds of Mask R-CNN, ORCNN and the floor (Mask
    R-CNN plus one mask head), the k-th of each timed in the same repetition."""
    if not len(mrcnn) == len(orcnn) == len(floor):
        raise ValueError(f'unpaired repetitions: {len(mrcnn)} Mask R-CNN, {len(orcnn)} ORCNN, '
                         f'{len(floor)} floor')
    return InferenceVerdict(
        floor=Spread.of([f / m for m, f in zip(mrcnn, floor)]),
        ratio=Spread.of([o / m for m, o in zip(mrcnn, orcnn)]),
        excess=Spread.of([(o - f) / m for m, o, f in zip(mrcnn, orcnn, floor)]),
        tolerance=tolerance)


def benchmark_models(
        settings: OrcnnBenchmarkSettings
) -> Tuple[Dict[str, torch.nn.Module], torch.Tensor, DetDataSample]:
    """Mask R-CNN and ORCNN with the same weights (``{'Mask R-CNN': ..., 'ORCNN': ...}``), the
    input image and its data sample."""
    args = settings
    models = {
        'Mask R-CNN': build_model(args.mrcnn_config, args.detections, args.device),
        'ORCNN': build_model(args.orcnn_config, args.detections, args.device),
    }
    for name, option, config, visible in (('Mask R-CNN', 'mrcnn', args.mrcnn_config, False),
                                          ('ORCNN', 'orcnn', args.orcnn_config, True)):
        roi_head = models[name].roi_head
        if bool(getattr(roi_head, 'with_visible_mask', False)) != visible:
            kind = ('an ORCNN config (a visible mask head beside the amodal one)' if visible else
                    'a Mask R-CNN config (one mask head)')
            raise AmodalError(f'{config}: --{option}-config must be {kind}; its RoI head is a '
                              f'{type(roi_head).__name__} with mask heads '
                              f'{[n for n, _ in roi_head.named_children() if "mask_head" in n]}')
    try:
        share_weights(models['Mask R-CNN'], models['ORCNN'])
    except RuntimeError as error:
        raise AmodalError(f'{args.orcnn_config} cannot take the weights of {args.mrcnn_config}: '
                          f'the two must have the same backbone, neck and heads ({error})') from None
    num_classes = models['ORCNN'].roi_head.bbox_head.num_classes
    inputs, sample = make_batch(list(args.shape), args.num_gts, args.device, min(10, num_classes))
    return models, inputs, sample


def predict_run(model: torch.nn.Module, inputs: torch.Tensor, sample: DetDataSample,
                detections: Optional[int] = None) -> Callable[[], None]:
    """One inference of ``model`` on the input, checking that it keeps ``detections``."""

    def run() -> None:
        with torch.no_grad():
            result = model.predict(inputs, [copy.deepcopy(sample)])[0]
        n = len(result.pred_instances)
        assert detections is None or n == detections, f'{n} detections instead of {detections}'

    return run


def forward_and_loss(model: torch.nn.Module, inputs: torch.Tensor,
                     sample: DetDataSample) -> torch.Tensor:
    """The summed loss of one forward; every model samples the same RoIs."""
    torch.manual_seed(0)
    loss, _ = model.parse_losses(model.loss(inputs, [copy.deepcopy(sample)]))
    return loss


def backward(loss: torch.Tensor) -> None:
    loss.backward()


def optimizer_step(optimizer: torch.optim.Optimizer) -> None:
    optimizer.step()
    optimizer.zero_grad()


def train_step_run(model: torch.nn.Module, inputs: torch.Tensor,
                   sample: DetDataSample) -> Callable[[], None]:
    """One train step of ``model`` (forward, backward, SGD step with lr 0, so that every step
    sees the same weights)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9, weight_decay=1e-4)

    def run() -> None:
        backward(forward_and_loss(model, inputs, sample))
        optimizer_step(optimizer)

    return run


def run_benchmark_orcnn(settings: OrcnnBenchmarkSettings) -> Dict[str, Dict[str, List[float]]]:
    """Time both models (see the module docstring) and print the medians, spreads and verdict.

    Returns:
        dict: Per mode (``inference``, ``train step``), per model (and :data:`FLOOR` for
        inference), the seconds of each timed repetition.
    """
    args = settings
    memory = memory_setting(args)
    MMLogger.get_instance('benchmark_orcnn', log_level='WARNING')  # no weight-init report
    models, inputs, sample = benchmark_models(args)

    def predict(model: torch.nn.Module) -> Callable[[], None]:
        return predict_run(model, inputs, sample, args.detections)

    def train_step(model: torch.nn.Module) -> Callable[[], None]:
        return train_step_run(model, inputs, sample)

    modes = {'inference': (predict, 'eval')}
    if not args.skip_train:
        modes['train step'] = (train_step, 'train')
    floor = with_extra_mask_head(build_model(args.mrcnn_config, args.detections, args.device))
    floor.load_state_dict(models['Mask R-CNN'].state_dict())
    times: Dict[str, Dict[str, List[float]]] = {mode: {} for mode in modes}
    print(f'device {args.device}, {torch.get_num_threads()} threads, {memory}, input '
          f'{list(args.shape)}, {args.detections} detections, {args.num_gts} GT instances, '
          f'{args.iters} alternating repetitions after {args.warmup} warm-up')
    progress = ProgressBar(sum(len(models) + (mode == 'inference') for mode in modes) *
                           (args.warmup + args.iters))
    for mode, (make_fn, model_mode) in modes.items():
        fns = {}
        for name, model in models.items():
            getattr(model, model_mode)()
            fns[name] = make_fn(model)
        if mode == 'inference':
            floor.eval()
            fns[FLOOR] = predict(floor)
        for i in range(args.warmup + args.iters):
            # alternate, in turn forwards and backwards, so that drifts and the position in
            # the sequence hit all alike
            for name, fn in list(fns.items())[::1 if i % 2 == 0 else -1]:
                seconds = timed(fn, args.device)
                if i >= args.warmup:
                    times[mode].setdefault(name, []).append(seconds)
                progress.update()

    print('\nseconds per run: median (min-max, IQR) over the repetitions')
    for mode, by_model in times.items():
        for name, seconds in by_model.items():
            print(f'{mode:<11} {name:<26} {Spread.of(seconds).format()}')
        if mode == 'train step':
            ratio = Spread.of([o / m for m, o in zip(by_model['Mask R-CNN'], by_model['ORCNN'])])
            print(f'train step ORCNN / Mask R-CNN: {ratio.format()}')
    inference = times['inference']
    verdict = inference_verdict(inference['Mask R-CNN'], inference['ORCNN'],
                                inference[FLOOR], args.tolerance)
    for line in verdict.lines():
        print(line)
    return times
