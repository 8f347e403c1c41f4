"""Time ORCNN against mmdet's Mask R-CNN with the same backbone, side by side in one process.

Both models are built from their configs with the same weights (the Mask R-CNN's mask head also
initialises ORCNN's visible mask head, as tools/model_converters/mask_rcnn_to_orcnn.py does), so
they see the same proposals, keep the same ``--detections`` detections at inference and sample the
same RoIs in training. They run alternately on the same inputs; the tool prints the median time of
an inference and of a train step (forward, backward, SGD step with lr 0 so that every step sees the
same weights) and the ORCNN / Mask R-CNN ratios. Timed in the same alternation, one forward of
the Mask R-CNN's mask head alone on its detections gives "Mask R-CNN plus one mask head", the
least an ORCNN inference can cost (it runs two such heads); the last line says how far ORCNN is
above it (the occlusion logits and the pastes of the visible and invisible masks).

    python tools/analysis_tools/benchmark_orcnn.py            # R50-FPN, 800x1088, 100 detections
    python tools/analysis_tools/benchmark_orcnn.py --skip-train   # inference only
    python tools/analysis_tools/benchmark_orcnn.py --mrcnn-config A.py --orcnn-config B.py
"""
import argparse
import copy
import os.path as osp
import statistics
import time
from typing import Callable, Dict, List

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData
from mmengine.utils import ProgressBar

from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox2roi
from mmdet.structures.mask import BitmapMasks

import mmorcnn  # noqa: F401
from mmorcnn.utils import project_path

CONFIG_ROOT = project_path('configs')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='ORCNN vs Mask R-CNN speed')
    parser.add_argument(
        '--mrcnn-config',
        default=osp.join(CONFIG_ROOT, 'amodal_mask_rcnn', 'amodal-mask-rcnn_r50_fpn_10k_d2sa.py'),
        help='a Mask R-CNN config (AmodalMRCNN is mmdet\'s Mask R-CNN, unchanged)')
    parser.add_argument(
        '--orcnn-config',
        default=osp.join(CONFIG_ROOT, 'orcnn', 'orcnn_r50_fpn_10k_d2sa.py'),
        help='the ORCNN config with the same backbone')
    parser.add_argument('--shape', type=int, nargs=2, default=[800, 1088],
                        help='input height and width (default: the paper\'s 800 short side)')
    parser.add_argument('--detections', type=int, default=100,
                        help='detections per image at inference')
    parser.add_argument('--num-gts', type=int, default=10, help='GT instances per train image')
    parser.add_argument('--iters', type=int, default=10, help='timed runs of each model and mode')
    parser.add_argument('--warmup', type=int, default=2, help='untimed runs first')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--skip-train', action='store_true', help='time inference only')
    return parser.parse_args()


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
    state = mrcnn.state_dict()
    state.update({
        'roi_head.visible_mask_head.' + key[len('roi_head.mask_head.'):]: value
        for key, value in state.items() if key.startswith('roi_head.mask_head.')
    })
    orcnn.load_state_dict(state)


def make_batch(shape: List[int], num_gts: int, device: str):
    """A normalised image and its data sample with occluded rectangles as GT."""
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
        labels=torch.from_numpy(rng.randint(0, 10, num_gts)),
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


def mask_head_run(model: torch.nn.Module, inputs: torch.Tensor,
                  sample: DetDataSample) -> Callable[[], None]:
    """One forward of the model's mask head alone on the RoI features of its detections."""
    model.eval()
    with torch.no_grad():
        x = model.extract_feat(inputs)
        boxes = model.predict(inputs, [copy.deepcopy(sample)])[0].pred_instances.bboxes
        roi_head = model.roi_head
        feats = roi_head.mask_roi_extractor(x[:roi_head.mask_roi_extractor.num_inputs],
                                            bbox2roi([boxes]))

    def run() -> None:
        with torch.no_grad():
            roi_head.mask_head(feats)

    return run


def main() -> None:
    args = parse_args()
    MMLogger.get_instance('benchmark_orcnn', log_level='WARNING')  # no weight-init report
    models = {
        'Mask R-CNN': build_model(args.mrcnn_config, args.detections, args.device),
        'ORCNN': build_model(args.orcnn_config, args.detections, args.device),
    }
    share_weights(models['Mask R-CNN'], models['ORCNN'])
    inputs, sample = make_batch(args.shape, args.num_gts, args.device)

    def predict(model: torch.nn.Module) -> Callable[[], None]:

        def run() -> None:
            with torch.no_grad():
                result = model.predict(inputs, [copy.deepcopy(sample)])[0]
            n = len(result.pred_instances)
            assert n == args.detections, f'{n} detections instead of {args.detections}'

        return run

    def train_step(model: torch.nn.Module) -> Callable[[], None]:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9, weight_decay=1e-4)

        def run() -> None:
            torch.manual_seed(0)  # both models sample the same RoIs
            loss, _ = model.parse_losses(model.loss(inputs, [copy.deepcopy(sample)]))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        return run

    modes = {'inference': (predict, 'eval')}
    if not args.skip_train:
        modes['train step'] = (train_step, 'train')
    # What "the cost of one extra mask head" is, timed in the same alternation as inference.
    head_run = mask_head_run(models['Mask R-CNN'], inputs, sample)
    times: Dict[str, Dict[str, List[float]]] = {mode: {} for mode in modes}
    print(f'device {args.device}, {torch.get_num_threads()} threads, input {args.shape}, '
          f'{args.detections} detections, {args.num_gts} GT instances')
    progress = ProgressBar(len(modes) * (len(models) + 1) * (args.warmup + args.iters))
    for mode, (make_fn, model_mode) in modes.items():
        fns = {}
        for name, model in models.items():
            getattr(model, model_mode)()
            fns[name] = make_fn(model)
        if mode == 'inference':
            fns['one mask head'] = head_run
        for i in range(args.warmup + args.iters):
            for name, fn in fns.items():  # alternate, so that drifts hit all alike
                seconds = timed(fn, args.device)
                if i >= args.warmup:
                    times[mode].setdefault(name, []).append(seconds)
                progress.update()

    print(f'\n{"":<12}{"Mask R-CNN (s)":>16}{"ORCNN (s)":>12}{"ratio":>8}')
    for mode, by_model in times.items():
        mrcnn, orcnn = (statistics.median(by_model[name]) for name in models)
        print(f'{mode:<12}{mrcnn:>16.3f}{orcnn:>12.3f}{orcnn / mrcnn:>8.3f}')
    inference = {name: statistics.median(t) for name, t in times['inference'].items()}
    mrcnn, head = inference['Mask R-CNN'], inference['one mask head']
    print(f'one mask head on {args.detections} RoIs: {head:.3f} s; Mask R-CNN inference plus one '
          f'mask head: {(mrcnn + head) / mrcnn:.3f}x')
    print(f'ORCNN inference above Mask R-CNN plus one mask head: '
          f'{(inference["ORCNN"] - mrcnn - head) / mrcnn:+.3f}x')


if __name__ == '__main__':
    main()
