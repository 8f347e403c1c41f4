"""Where ORCNN's time goes, beside Mask R-CNN's: a profile of each stage of an inference and of a
train step, and the paste of ORCNN's three kinds of mask in one pass against mmdet's paste once
per head.

The models, weights and inputs are those of :mod:`mmorcnn.analysis.benchmark_orcnn`. The stage
table comes from :mod:`cProfile` (the cumulative seconds of the functions that make each stage,
per run), so it says where the time goes, with the profiler's small overhead on every Python
call; the ORCNN / Mask R-CNN ratios and the verdict are the benchmark's.
"""
import copy
import cProfile
import pstats
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData

from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
from mmdet.models.detectors.two_stage import TwoStageDetector
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.structures.bbox import bbox2roi
from mmorcnn.models.mask_paste import paste_masks, paste_masks_of_heads
from mmorcnn.models.roi_heads import OcclusionRoIHead, add_occlusion_order
from .benchmark_orcnn import (OrcnnBenchmarkSettings, backward, benchmark_models,
                              forward_and_loss, memory_setting, optimizer_step, predict_run,
                              timed, train_step_run)
from .spread import Spread


#: A stage: its name and the functions whose cumulative time it is (the first one called; an
#: indented name is a part of the stage above it).
Stage = Tuple[str, Sequence[Callable]]

INFERENCE_STAGES: List[Stage] = [
    ('backbone + FPN', [TwoStageDetector.extract_feat]),
    ('RPN', [BaseDenseHead.predict]),
    ('box head (RoIAlign, FCs, NMS)', [StandardRoIHead.predict_bbox]),
    ('mask RoIAlign + mask heads', [OcclusionRoIHead._mask_forward,
                                    StandardRoIHead._mask_forward]),
    ('  of which the heads\' layers', [FCNMaskHead.forward]),
    ('paste to image size', [paste_masks, FCNMaskHead._predict_by_feat_single]),
    ('occlusion order', [add_occlusion_order]),
]
TRAIN_STAGES: List[Stage] = [
    ('forward and losses', [forward_and_loss]),
    ('  backbone + FPN', [TwoStageDetector.extract_feat]),
    ('  RPN loss and proposals', [BaseDenseHead.loss_and_predict]),
    ('  box head loss', [StandardRoIHead.bbox_loss]),
    ('  mask heads and losses', [OcclusionRoIHead.mask_loss, StandardRoIHead.mask_loss]),
    ('backward', [backward]),
    ('SGD step', [optimizer_step]),
]


def _code_key(fn: Callable) -> Tuple[str, int, str]:
    code = fn.__code__
    return code.co_filename, code.co_firstlineno, code.co_name


def profile_stages(runs: Dict[str, Callable[[], None]], stages: Sequence[Stage],
                   repeats: int) -> Dict[str, Tuple[float, Dict[str, float]]]:
    """Per named run: its seconds per run and those of each stage (0 for a stage it does not
    have), from :mod:`cProfile` over ``repeats`` runs of each, the runs alternating so that a
    drift of the machine hits all alike."""
    profilers = {name: cProfile.Profile() for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            profilers[name].enable()
            run()
            profilers[name].disable()
    result = {}
    for name, profiler in profilers.items():
        stats = pstats.Stats(profiler).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
        total = sum(tt for _, _, tt, _, _ in stats.values()) / repeats
        seconds = {}
        for stage, fns in stages:
            hits = [stats[_code_key(fn)][3] for fn in fns if _code_key(fn) in stats]
            seconds[stage] = hits[0] / repeats if hits else 0.0
        result[name] = total, seconds
    return result


def _stage_table(title: str, totals: Dict[str, float], stages: Dict[str, Dict[str, float]],
                 names: Sequence[str]) -> List[str]:
    mrcnn, orcnn = stages['Mask R-CNN'], stages['ORCNN']
    lines = [f'{title}: seconds per run (cProfile)',
             f'| stage | Mask R-CNN | ORCNN | ORCNN - Mask R-CNN |', '| --- | ---: | ---: | ---: |']
    for name in names:
        lines.append(f'| {name} | {mrcnn[name]:.3f} | {orcnn[name]:.3f} | '
                     f'{orcnn[name] - mrcnn[name]:+.3f} |')
    lines.append(f'| total | {totals["Mask R-CNN"]:.3f} | {totals["ORCNN"]:.3f} | '
                 f'{totals["ORCNN"] - totals["Mask R-CNN"]:+.3f} |')
    return lines


@dataclass
class PasteComparison:
    """Seconds of each repetition of the two ways to paste ORCNN's three kinds of mask."""
    one_pass: List[float]
    per_head: List[float]

    def lines(self, detections: int) -> List[str]:
        ratio = Spread.of([h / o for o, h in zip(self.one_pass, self.per_head)])
        saved = Spread.of([h - o for o, h in zip(self.one_pass, self.per_head)])
        return [
            f'paste of the amodal, visible and invisible masks of {detections} detections, '
            f'seconds, median (min-max, IQR) of {len(self.one_pass)} alternating repetitions:',
            f'  paste_masks_of_heads (one pass):          {Spread.of(self.one_pass).format()}',
            f'  FCNMaskHead.predict_by_feat of each head: {Spread.of(self.per_head).format()}',
            f'  per head / one pass: {ratio.format(2)}; saved per image: {saved.format()} s',
        ]


def paste_each_head(heads, mask_preds, results_list: List[InstanceData], img_metas: List[dict],
                    cfg, rescale: bool = False) -> List[InstanceData]:
    """mmdet's paste, one head at a time: FCNMaskHead.predict_by_feat for each head, the amodal
    head last on the boxes themselves (it rescales them in place), the other kinds on copies of
    the boxes; the baseline :func:`paste_masks_of_heads` is checked and timed against."""
    for head, preds in sorted(zip(heads, mask_preds), key=lambda hp: hp[0].mask_field == 'masks'):
        if head.mask_field == 'masks':
            FCNMaskHead.predict_by_feat(head, preds, results_list, img_metas, cfg, rescale)
            continue
        copies = [InstanceData(bboxes=res.bboxes.clone(), labels=res.labels)
                  for res in results_list]
        for res, pasted in zip(results_list, FCNMaskHead.predict_by_feat(
                head, preds, copies, img_metas, cfg, rescale)):
            res[head.mask_field] = pasted.masks
    return results_list


def compare_pastes(model: torch.nn.Module, inputs: torch.Tensor, sample, iters: int,
                   warmup: int, device: str) -> PasteComparison:
    """Time :func:`paste_masks_of_heads` against mmdet's paste per head, alternating, on the
    logits of ORCNN's heads for its detections; both must give the same masks bit for bit."""
    model.eval()
    roi_head = model.roi_head
    img_metas = [sample.metainfo]
    with torch.no_grad():
        x = model.extract_feat(inputs)
        proposals = model.rpn_head.predict(x, [copy.deepcopy(sample)], rescale=False)
        detections = roi_head.predict_bbox(x, img_metas, proposals, roi_head.test_cfg,
                                          rescale=False)[0]
        logits = roi_head._mask_forward(x, bbox2roi([detections.bboxes]))
    kinds = [('mask_preds', roi_head.mask_head)] + roi_head._extra_mask_heads()
    heads = [head for _, head in kinds]
    mask_preds = [(logits[key], ) for key, _ in kinds]
    cfg = roi_head.test_cfg

    def pasted_by(paste):
        def run():
            boxes = InstanceData(bboxes=detections.bboxes.clone(), labels=detections.labels)
            return paste(heads, mask_preds, [boxes], img_metas, cfg, rescale=True)[0]
        return run

    one_pass, per_head = pasted_by(paste_masks_of_heads), pasted_by(paste_each_head)

    ours, mmdet = one_pass(), per_head()
    for field in (head.mask_field for head in heads):
        if not torch.equal(ours[field], mmdet[field]):
            raise AssertionError(f'the one-pass paste of {field} differs from mmdet\'s')
    times: Dict[str, List[float]] = {'one pass': [], 'per head': []}
    with torch.no_grad():
        for i in range(warmup + iters):
            for name, fn in (('one pass', one_pass), ('per head', per_head)):
                seconds = timed(fn, device)
                if i >= warmup:
                    times[name].append(seconds)
    return PasteComparison(times['one pass'], times['per head'])


def run_profile_orcnn(settings: OrcnnBenchmarkSettings, repeats: int = 3) -> List[str]:
    """Print (and return) the stage tables of inference and (unless ``skip_train``) of the train
    step, and the paste comparison (``settings.iters`` repetitions)."""
    args = settings
    memory = memory_setting(args)
    MMLogger.get_instance('profile_orcnn', log_level='WARNING')
    models, inputs, sample = benchmark_models(args)
    lines = [f'device {args.device}, {torch.get_num_threads()} threads, {memory}, input '
             f'{list(args.shape)}, {args.detections} detections, {args.num_gts} GT instances; '
             f'profiles of {repeats} alternating runs after one warm-up']

    def predict(model):
        return predict_run(model, inputs, sample)

    def train_step(model):
        return train_step_run(model, inputs, sample)

    modes = [('inference', predict, 'eval', INFERENCE_STAGES)]
    if not args.skip_train:
        modes.append(('train step', train_step, 'train', TRAIN_STAGES))
    for mode, make_run, model_mode, stages in modes:
        runs = {}
        for name, model in models.items():
            getattr(model, model_mode)()
            runs[name] = make_run(model)
            runs[name]()  # warm-up
        profiles = profile_stages(runs, stages, repeats)
        totals = {name: total for name, (total, _) in profiles.items()}
        by_model = {name: seconds for name, (_, seconds) in profiles.items()}
        lines += [''] + _stage_table(mode, totals, by_model, [name for name, _ in stages])
    comparison = compare_pastes(models['ORCNN'], inputs, sample, args.iters, args.warmup,
                                args.device)
    lines += [''] + comparison.lines(args.detections)
    for line in lines:
        print(line)
    return lines
