"""Run an amodal detector on images: overlays and amodal / visible / invisible masks per instance.

    from mmorcnn.apis import AmodalInferencer
    inferencer = AmodalInferencer('configs/orcnn/orcnn_r18_fpn_tiny_synthetic.py', 'iter_600.pth')
    result = inferencer('demo.png', out_dir='outputs', no_save_pred=False)
    result['predictions'][0]['instances'][0]['invisible_mask']   # compressed RLE

For each image, ``out_dir/vis/<image name>`` is the overlay of :class:`AmodalDetLocalVisualizer`
and ``out_dir/preds/<image stem>.json`` the prediction::

    {"img_path": "demo.png",                 # null for an array input
     "height": 480, "width": 640,            # of the input image; masks have this size
     "instances": [                          # every predicted instance, highest score first
       {"label": 2,                          # index into the model's classes
        "category": "triangle",              # the class name
        "score": 0.93,
        "bbox": [x1, y1, x2, y2],            # the predicted (amodal) box
        "segmentation": {"size": [h, w], "counts": "..."},     # amodal mask, compressed RLE
        "visible_mask": {"size": [h, w], "counts": "..."},     # absent when the model
        "invisible_mask": {"size": [h, w], "counts": "..."},   # predicts none (AmodalMRCNN)
        "occluded_by": [0, 3],               # indices into this "instances" list of the
                                             # instances that hide part of this one
        "depth": 1},                         # 0: nothing hides it, else 1 + the largest
       ...]}                                 # depth of its occluders

``occluded_by`` and ``depth`` are the model's occlusion order (``pred_instances.occluders`` /
``.depth``, the one rule of :func:`mmorcnn.structures.occlusion_graph` on the predicted masks,
over all the listed instances); they are absent when the model predicts none (no visible or
invisible masks, or ``test_cfg.occlusion_order=False``).

The mask names are those of the canonical annotation format (docs/annotation_format.md) and of the
results file of ``AmodalCocoMetric``: ``segmentation`` is the amodal mask.
"""
import json
import logging
import math
import os
import os.path as osp
import warnings
from typing import Callable, Dict, Iterable, Iterator, Optional

import numpy as np
import torch
from mmdet.apis import DetInferencer
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from mmengine.visualization import Visualizer

from mmorcnn.datasets.image_check import image_problem
from mmorcnn.engine.checkpoint_fit import check_checkpoint_fits
from mmorcnn.structures.mask_kinds import MASK_KINDS
from mmorcnn.structures.mask_utils import (SoftMaskError, binary_masks, masks_to_rles,
                                           to_json_rle)
from mmorcnn.visualization.amodal_visualizer import DEFAULT_PALETTE

#: Transforms that read ground truth; inference images have none.
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadAmodalAnnotations', 'mmdet.LoadAnnotations')
#: Mask pixels (detections x kinds x height x width) pasted at once: 256 Mi bool, the three kinds
#: of a 6000 x 6000 image's masks pasted 2 detections at a time. Images whose detections fit are
#: pasted at once.
DEFAULT_MAX_MASK_PIXELS = 2**28
#: mmdet's mask head, whose paste knows no ``max_mask_pixels``, and the mmorcnn head that is
#: the same head (same weights, same masks) with the paste of :mod:`mmorcnn.models.mask_paste`.
FCN_MASK_HEADS = ('FCNMaskHead', 'mmdet.FCNMaskHead')
PASTING_FCN_MASK_HEAD = 'AmodalMaskHead'
#: Image loaders of the configs that mmdet's inferencer replaces by its own loader.
IMAGE_LOADERS = ('LoadNamedImageFromFile', 'mmdet.LoadNamedImageFromFile')


def _numpy(values) -> np.ndarray:
    return values.cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)


def _rles(masks, what: str, order: np.ndarray) -> list:
    """Compressed RLEs of the masks in ``order``: (N, H, W) binary masks encoded, RLE lists
    (large images, ``max_mask_pixels`` of :mod:`mmorcnn.models.mask_paste`) taken as they
    are."""
    if isinstance(masks, (list, tuple)):
        return [to_json_rle(masks[i]) for i in order]
    return masks_to_rles(binary_masks(masks, None, what)[order])


class _Batches:
    """The batches of ``preprocess`` with a length, so that the progress bar has a total."""

    def __init__(self, batches: Iterator, num: int) -> None:
        self.batches, self.num = batches, num

    def __iter__(self) -> Iterator:
        return iter(self.batches)

    def __len__(self) -> int:
        return self.num


class AmodalInferencer(DetInferencer):
    """mmdet's DetInferencer for amodal instance segmentation models (ORCNN, AmodalMRCNN).

    Differences to mmdet's: a model whose mask heads return soft masks
    (``test_cfg.rcnn.mask_thr_binary < 0``) is refused, since the predictions are binary RLEs;
    the test pipeline's ground-truth loading is dropped; a checkpoint that lacks weights of
    the model (or has them in another shape) is refused with a
    :class:`~mmorcnn.engine.checkpoint_fit.CheckpointMismatchError` unless
    ``allow_partial_checkpoint``; an image file that cannot be decoded is skipped with a
    warning naming it (listed in :attr:`skipped_inputs`) and the others are processed; the
    overlay is
    drawn by :class:`~mmorcnn.visualization.AmodalDetLocalVisualizer` (amodal masks in class
    colours, invisible parts highlighted) also when the config names mmdet's visualizer; the
    predictions are one record per instance with its amodal, visible and invisible masks as
    compressed RLEs (schema in the module docstring); the masks of an image too large to paste
    at once (``max_mask_pixels``) are pasted in chunks and kept as RLEs; the progress bar over
    a folder of images has a total.

    Args:
        model (str | dict, optional): Config file or config of the model.
        weights (str, optional): Checkpoint file. Defaults to None.
        device (str, optional): Device, e.g. ``'cpu'``, ``'cuda:0'``. Defaults to None: CUDA
            when available.
        scope (str, optional): Registry scope. Defaults to 'mmdet'.
        palette (str): Colour palette of the classes, as mmdet's. Defaults to 'none' (the
            config's or checkpoint's, else the visualizer's fixed ``DEFAULT_PALETTE``).
        show_progress (bool): Show a progress bar. Defaults to True.
        allow_partial_checkpoint (bool): Run with a checkpoint that does not fit the model (the
            missing weights at their random initialisation), warning instead of raising.
            Defaults to False.
        max_mask_pixels (int, optional): For images where the detections x kinds x height x
            width exceed this, masks are pasted a few detections at a time and kept as
            compressed RLEs, so memory grows with the image only: the model's
            ``test_cfg.rcnn.max_mask_pixels`` (:mod:`mmorcnn.models.mask_paste`), which this
            sets. mmdet's ``FCNMaskHead`` is built as :class:`~mmorcnn.models.AmodalMaskHead`
            for it, the same head with mmorcnn's paste. None leaves the config as it is.
            Defaults to :data:`DEFAULT_MAX_MASK_PIXELS`.

    Attributes:
        skipped_inputs (list[tuple]): ``(path, reason)`` of every input file skipped as
            unreadable, over all calls.
    """

    def __init__(self, *args, allow_partial_checkpoint: bool = False,
                 max_mask_pixels: Optional[int] = DEFAULT_MAX_MASK_PIXELS, **kwargs) -> None:
        self.allow_partial_checkpoint = allow_partial_checkpoint
        self.max_mask_pixels = max_mask_pixels
        self.skipped_inputs: list = []
        super().__init__(*args, **kwargs)

    def _load_weights_to_model(self, model, checkpoint: Optional[dict], cfg: ConfigDict) -> None:
        """As mmdet's; but where neither the argument, the config nor the checkpoint gives a
        palette, the classes get the fixed :data:`DEFAULT_PALETTE` of the visualizer instead of
        mmdet's random one (and its warning, which a user could not act on)."""
        if checkpoint is not None:
            check_checkpoint_fits(model, checkpoint, str(self._weights_file), 'inference',
                                  self.allow_partial_checkpoint)
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='palette does not exist')
            super()._load_weights_to_model(model, checkpoint, cfg)
        if self.palette == 'none' and model.dataset_meta.get('palette') == 'random':
            num_classes = len(model.dataset_meta.get('classes') or DEFAULT_PALETTE)
            model.dataset_meta['palette'] = [DEFAULT_PALETTE[i % len(DEFAULT_PALETTE)]
                                             for i in range(num_classes)]

    def _init_model(self, cfg: ConfigDict, weights: Optional[str], device: str = 'cpu'):
        """As mmdet's, with :attr:`max_mask_pixels` in the R-CNN test config
        (:meth:`_set_max_mask_pixels`)."""
        self._weights_file = weights  # named by the checkpoint check of _load_weights_to_model
        self._set_max_mask_pixels(cfg.model)
        return super()._init_model(cfg, weights, device)

    def _set_max_mask_pixels(self, model_cfg: ConfigDict) -> None:
        """Write :attr:`max_mask_pixels` into ``model_cfg.test_cfg.rcnn`` of an R-CNN with a
        mask head; its mask head pastes through :mod:`mmorcnn.models.mask_paste`, which honours
        the key (mmdet's ``FCNMaskHead`` as :data:`PASTING_FCN_MASK_HEAD`, its subclass with the
        same weights and masks)."""
        rcnn = (model_cfg.get('test_cfg') or {}).get('rcnn')
        mask_head = (model_cfg.get('roi_head') or {}).get('mask_head')
        if self.max_mask_pixels is None or rcnn is None or not isinstance(mask_head, dict):
            return
        rcnn.max_mask_pixels = self.max_mask_pixels
        if mask_head.get('type') in FCN_MASK_HEADS:
            mask_head.type = PASTING_FCN_MASK_HEAD

    def _inputs_to_list(self, inputs) -> list:
        """As mmdet's; input files that cannot be decoded are left out with a warning that
        names each (they are listed in :attr:`skipped_inputs`)."""
        readable = []
        for item in super()._inputs_to_list(inputs):
            problem = image_problem(item) if isinstance(item, str) else None
            if problem is None:
                readable.append(item)
                continue
            self.skipped_inputs.append((item, problem))
            print_log(f'skipped input {item}: {problem}', logger='current',
                      level=logging.WARNING)
        return readable

    def _init_pipeline(self, cfg: ConfigDict):
        """The config's test pipeline without its annotation loading; refuses soft masks."""
        rcnn_test_cfg = (cfg.model.get('test_cfg') or {}).get('rcnn') or {}
        thr = rcnn_test_cfg.get('mask_thr_binary', 0.5)
        if thr < 0:
            raise SoftMaskError(
                f'model.test_cfg.rcnn.mask_thr_binary is {thr}: the mask heads would return '
                'soft masks (grey levels), but AmodalInferencer writes binary RLE masks; set '
                'it to a threshold in [0, 1] (mmdet uses 0.5)')
        pipeline = cfg.test_dataloader.dataset.pipeline
        # mmdet replaces the image loader by its InferencerLoader (files and arrays): it looks
        # for mmcv's name; unreadable files are left out before (_inputs_to_list).
        cfg.test_dataloader.dataset.pipeline = [
            dict(t, type='LoadImageFromFile') if t['type'] in IMAGE_LOADERS else t
            for t in pipeline if t['type'] not in ANNOTATION_LOADERS]
        return super()._init_pipeline(cfg)

    def _init_collate(self, cfg: ConfigDict) -> Callable:
        """The test loader's ``collate_fn``, by default mmengine's ``pseudo_collate``."""
        if cfg.test_dataloader.get('collate_fn') is None:
            # mmengine would first search mmdet's (nonexistent) FUNCTIONS registry and log a
            # warning about it before falling back to the same pseudo_collate.
            return pseudo_collate
        return super()._init_collate(cfg)

    def _init_visualizer(self, cfg: ConfigDict) -> Optional[Visualizer]:
        """The config's visualizer, made amodal if the config names mmdet's."""
        if cfg.get('visualizer') is not None and cfg.visualizer.get('type') in (
                'DetLocalVisualizer', 'mmdet.DetLocalVisualizer'):
            cfg.visualizer.type = 'AmodalDetLocalVisualizer'
        if cfg.get('visualizer') is not None:
            # The inferencer writes the overlays itself (out_dir/vis); the config's storage
            # backends would need a save_dir (LocalVisBackend warns and is skipped without one).
            cfg.visualizer.vis_backends = None
        return super()._init_visualizer(cfg)

    def preprocess(self, inputs: Iterable, batch_size: int = 1, **kwargs) -> _Batches:
        inputs = list(inputs)
        return _Batches(super().preprocess(inputs, batch_size=batch_size, **kwargs),
                        math.ceil(len(inputs) / batch_size))

    @staticmethod
    def _add_occlusion_order(pred, order: np.ndarray, instances: list) -> None:
        """Give each JSON instance ``occluded_by`` (indices into ``instances``, whose instance
        ``k`` is prediction ``order[k]``) and ``depth``, when the prediction has them."""
        if 'occluders' not in pred or 'depth' not in pred:
            return
        occluders = _numpy(pred.occluders).astype(bool)[np.ix_(order, order)]
        depth = _numpy(pred.depth)[order]
        for k, instance in enumerate(instances):
            instance['occluded_by'] = np.flatnonzero(occluders[k]).tolist()
            instance['depth'] = int(depth[k])

    def pred2dict(self, data_sample: DetDataSample, pred_out_dir: str = '') -> Dict:
        """One record per image with one entry per instance; written to
        ``pred_out_dir/preds/<image stem>.json`` when ``pred_out_dir`` is set."""
        pred = data_sample.pred_instances
        classes = (self.model.dataset_meta or {}).get('classes')
        height, width = data_sample.ori_shape[:2]
        order = np.argsort(-pred.scores.cpu().numpy(), kind='stable')
        rles = {kind.key: _rles(pred.get(kind.field), f'pred_instances.{kind.field}', order)
                for kind in MASK_KINDS if kind.field in pred}
        labels = pred.labels.cpu().numpy()[order]
        scores = pred.scores.cpu().numpy()[order]
        bboxes = pred.bboxes.cpu().numpy()[order]
        instances = []
        for i in range(len(order)):
            instance = dict(label=int(labels[i]),
                            category=classes[labels[i]] if classes else str(int(labels[i])),
                            score=float(scores[i]),
                            bbox=[float(v) for v in bboxes[i]])
            instance.update({name: masks[i] for name, masks in rles.items()})
            instances.append(instance)
        self._add_occlusion_order(pred, order, instances)
        img_path = data_sample.get('img_path')
        result = dict(img_path=img_path, height=int(height), width=int(width),
                      instances=instances)

        if pred_out_dir:
            if img_path is not None:
                stem = osp.splitext(osp.basename(img_path))[0]
            else:
                stem = str(self.num_predicted_imgs).zfill(8)
                self.num_predicted_imgs += 1
            os.makedirs(osp.join(pred_out_dir, 'preds'), exist_ok=True)
            with open(osp.join(pred_out_dir, 'preds', f'{stem}.json'), 'w') as f:
                json.dump(result, f)
        return result
