"""Helpers of the tests of the occluder-aware mask heads (AISFormerMaskHead, BCNetMaskHead) in
AmodalRoIHead: tiny batches with occluder masks, one-image targets whose kinds all differ, the
loss and prediction calls, and the checks of the predictions every such head has to pass."""
import copy
from typing import Callable, Dict
from unittest import TestCase

import numpy as np
import torch
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.models.task_modules.assigners import AssignResult
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi
from mmdet.structures.mask import BitmapMasks

from mmorcnn.structures.mask_kinds import MASK_KINDS
from .amodal_batch import data_samples, features, proposals, roi_head_cfg

ROI_KEYS = {'loss_cls', 'loss_bbox', 'acc'}
#: The fields of the predicted masks: amodal, visible, invisible.
PREDICTED_FIELDS = tuple(kind.field for kind in MASK_KINDS)
TRAIN_CFG = ConfigDict(mask_size=28)


def head_cfg(mask_head: dict) -> ConfigDict:
    """The small RoI head of :func:`roi_head_cfg` as an AmodalRoIHead with ``mask_head``."""
    cfg = ConfigDict(roi_head_cfg('amodal'))
    cfg.type = 'AmodalRoIHead'
    cfg.mask_head = ConfigDict(mask_head)
    return cfg


def build_head(mask_head: dict, seed: int = 0):
    torch.manual_seed(seed)
    head = MODELS.build(head_cfg(mask_head))
    head.init_weights()
    return head


def with_occluder_masks(num_gts=(3, 2), seed=0):
    """data_samples with ``occluder_masks``: a random rectangle per instance (any binary mask
    differing from the other kinds shows which target a loss uses)."""
    samples = data_samples(num_gts, seed=seed)
    rng = np.random.RandomState(seed + 1)
    for sample in samples:
        h, w = sample.img_shape
        masks = np.zeros((len(sample.gt_instances), h, w), np.uint8)
        for mask in masks:
            x1, y1 = rng.randint(0, w // 2, 2)
            mask[y1:y1 + rng.randint(8, h // 2), x1:x1 + rng.randint(8, w // 2)] = 1
        sample.gt_instances.occluder_masks = BitmapMasks(masks, h, w)
    return samples


def gt_and_sampling(size: int = 32):
    """One image with three GT instances whose four kinds of masks all differ, each GT box a
    positive RoI."""
    boxes = [[2, 2, 20, 20], [10, 6, 30, 26], [4, 14, 24, 30]]
    amodal, visible, occluder = (np.zeros((3, size, size), np.uint8) for _ in range(3))
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        amodal[i, y1:y2, x1:x2] = 1
        visible[i, y1:y2, x1:(x1 + x2) // 2] = 1
        occluder[i, y1 - 2:(y1 + y2) // 2, (x1 + x2) // 2:x2 + 2] = 1
    gt = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32), labels=torch.tensor([0, 1, 2]),
        **{field: BitmapMasks(masks, size, size) for field, masks in (
            ('masks', amodal), ('visible_masks', visible), ('invisible_masks', amodal - visible),
            ('occluder_masks', occluder))})
    priors = torch.cat([gt.bboxes, torch.tensor([[0., 0., 4., 4.]])])
    sampling = SamplingResult(
        pos_inds=torch.tensor([0, 1, 2]),
        neg_inds=torch.tensor([3]),
        priors=priors,
        gt_bboxes=gt.bboxes,
        assign_result=AssignResult(num_gts=3, gt_inds=torch.tensor([1, 2, 3, 0]),
                                   max_overlaps=torch.tensor([1., 1., 1., 0.]),
                                   labels=torch.tensor([0, 1, 2, -1])),
        gt_flags=torch.zeros(4, dtype=torch.uint8))
    return gt, sampling


def loss(head, samples, feats=None, seed=0):
    feats = features(len(samples)) if feats is None else feats
    torch.manual_seed(seed)  # the RoI sampler draws at random
    return head.loss(feats, proposals(samples), samples)


def predict(head, num_gts=(3, 2), rescale=True, scale_factor=(1.0, 1.0), boxes=None):
    samples = data_samples(num_gts, scale_factor=scale_factor)
    head.eval()
    with torch.no_grad():
        return head.predict(features(len(num_gts)), proposals(samples, boxes=boxes), samples,
                            rescale=rescale)


def assert_one_loss_per_output(test: TestCase, head, mask_losses) -> None:
    """On one batch the RoI head's losses are the box losses and ``mask_losses``, each finite and
    positive."""
    losses = loss(head, with_occluder_masks())
    test.assertEqual(set(losses), ROI_KEYS | set(mask_losses))
    for key in mask_losses:
        test.assertTrue(torch.isfinite(losses[key]).all(), key)
        test.assertGreater(losses[key].item(), 0, key)


def unreached_parameters(mask_head, losses, keys) -> list:
    """Names of the parameters of ``mask_head`` that the sum of ``losses[keys]`` sends no
    gradient to."""
    total = sum(losses[key] for key in keys)
    grads = torch.autograd.grad(total, list(mask_head.parameters()), allow_unused=True)
    return [name for (name, _), g in zip(mask_head.named_parameters(), grads)
            if g is None or g.abs().sum() == 0]


def assert_zero_losses_without_positive_rois(test: TestCase, head, mask_losses) -> None:
    losses = loss(head, with_occluder_masks((0, 0)))
    for key in mask_losses:
        test.assertEqual(losses[key].item(), 0)
    sum(v.sum() for k, v in losses.items() if k.startswith('loss')).backward()


def assert_masks_at_the_original_size(test: TestCase, head) -> None:
    """Binary amodal, visible and invisible masks at the original image size, no occluder masks,
    and the occlusion order of the predictions."""
    for res in predict(head, rescale=True, scale_factor=(2.0, 2.0)):
        n = len(res)
        test.assertGreater(n, 0)
        for field in PREDICTED_FIELDS:
            test.assertEqual(res[field].shape, (n, 32, 32), field)
            test.assertEqual(res[field].dtype, torch.bool)
        test.assertNotIn('occluder_masks', res)
        test.assertEqual(res.occluders.shape, (n, n))
        test.assertEqual(res.depth.shape, (n, ))


def assert_each_kind_is_mmdet_pasted(test: TestCase, head,
                                     logits_of: Dict[str, Callable]) -> None:
    """Each predicted field is what mmdet's FCNMaskHead pastes of ``logits_of[field](logits)``,
    the logits of the kind computed from the head's output for one image's detections."""
    head.eval()
    samples = data_samples((3, 2), scale_factor=(2.0, 1.5))
    x, metas = features(2), [sample.metainfo for sample in samples]
    with torch.no_grad():
        detections = head.predict_bbox(x, metas, proposals(samples), head.test_cfg,
                                       rescale=False)
        num = [len(res) for res in detections]
        logits = head._mask_forward(x, bbox2roi([res.bboxes for res in detections]))
        logits = logits['mask_preds'].split(num)
        results = head.predict_mask(x, metas, copy.deepcopy(detections), rescale=True)
        for field, of in logits_of.items():
            one = copy.deepcopy(detections)
            FCNMaskHead.predict_by_feat(head.mask_head, tuple(of(p) for p in logits), one, metas,
                                        head.test_cfg, rescale=True)
            for res, ref in zip(results, one):
                test.assertTrue(torch.equal(res[field], ref.masks), field)
                test.assertTrue(torch.equal(res.bboxes, ref.bboxes))


def assert_no_detections_give_empty_masks(test: TestCase, head) -> None:
    for boxes in ([torch.zeros(0, 4), torch.zeros(0, 4)],
                  [torch.tensor([[2., 2., 30., 30.]]), torch.zeros(0, 4)]):
        results = predict(head, boxes=boxes, scale_factor=(2.0, 2.0))
        test.assertEqual(len(results[1]), 0)
        for field in PREDICTED_FIELDS:
            test.assertEqual(results[1][field].shape, (0, 32, 32), field)
