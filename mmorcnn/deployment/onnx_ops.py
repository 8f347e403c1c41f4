"""mmcv's RoIAlign and NMS with the ONNX form that ONNX Runtime runs without custom operators.

In PyTorch each function runs mmcv's own kernel, so a traced model computes what the model
computes; when ``torch.onnx.export`` (the TorchScript exporter) traces it, it is recorded as the
standard ONNX operator:

* :func:`roi_align`: ``RoiAlign`` of opset 16 or later. Its
  ``coordinate_transformation_mode='half_pixel'`` shifts the RoI by half a pixel exactly as
  mmcv's ``aligned=True`` does (mmcv 2.1's own symbolic emulates it for older opsets by moving
  the boxes by ``0.5 / spatial_scale`` first, which rounds differently).
* :func:`nms`: ``NonMaxSuppression`` on one class, returning the kept indices in order of
  decreasing score, as mmcv's ``nms`` (mmcv 2.1 has no symbolic for it).
* :func:`class_nms`: mmcv's ``nms`` of each class on the boxes of that class, as
  ``batched_nms`` computes it, exported as one ``NonMaxSuppression`` whose classes are the
  groups: each box scores in its own class only, so ONNX Runtime compares a box with the boxes
  of its class and no others.
"""
from typing import Tuple

import torch
from mmcv.ops import nms as mmcv_nms
from mmcv.ops import roi_align as mmcv_roi_align
from torch import Tensor

#: The first opset with ``RoiAlign``'s ``coordinate_transformation_mode`` (mmcv's ``aligned``).
MIN_OPSET = 16
#: ``max_output_boxes_per_class`` of the exported ``NonMaxSuppression``: no limit in practice
#: (the callers keep the first ``max_per_img``).
_NMS_MAX_OUTPUT = 2**31 - 1


def _const(g, value: Tensor):
    return g.op('Constant', value_t=value)


class _RoIAlign(torch.autograd.Function):
    """mmcv's RoIAlign (average pooling); in ONNX, ``RoiAlign``."""

    @staticmethod
    def forward(ctx, feats: Tensor, rois: Tensor, output_size: Tuple[int, int],
                spatial_scale: float, sampling_ratio: int, aligned: bool) -> Tensor:
        return mmcv_roi_align(feats, rois, output_size, spatial_scale, sampling_ratio, 'avg',
                              aligned)

    @staticmethod
    def symbolic(g, feats, rois, output_size, spatial_scale, sampling_ratio, aligned):
        batch_indices = g.op('Cast', g.op('Squeeze', g.op(
            'Gather', rois, _const(g, torch.tensor([0])), axis_i=1),
            _const(g, torch.tensor([1]))), to_i=7)  # 7: INT64
        boxes = g.op('Gather', rois, _const(g, torch.tensor([1, 2, 3, 4])), axis_i=1)
        return g.op('RoiAlign', feats, boxes, batch_indices,
                    coordinate_transformation_mode_s='half_pixel' if aligned else
                    'output_half_pixel',
                    mode_s='avg', output_height_i=output_size[0],
                    output_width_i=output_size[1], sampling_ratio_i=max(0, sampling_ratio),
                    spatial_scale_f=spatial_scale)


class _NMS(torch.autograd.Function):
    """mmcv's NMS (offset 0); in ONNX, ``NonMaxSuppression``."""

    @staticmethod
    def forward(ctx, boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
        return mmcv_nms(boxes, scores, iou_threshold)[1]

    @staticmethod
    def symbolic(g, boxes, scores, iou_threshold):
        axis0 = _const(g, torch.tensor([0]))
        selected = g.op('NonMaxSuppression',
                        g.op('Unsqueeze', boxes, axis0),  # (1, N, 4)
                        g.op('Unsqueeze', scores, _const(g, torch.tensor([0, 1]))),  # (1, 1, N)
                        _const(g, torch.tensor([_NMS_MAX_OUTPUT], dtype=torch.int64)),
                        _const(g, torch.tensor([iou_threshold], dtype=torch.float32)))
        # (K, 3) rows of (batch, class, box index), in order of selection
        return g.op('Squeeze', g.op('Gather', selected, _const(g, torch.tensor([2])), axis_i=1),
                    _const(g, torch.tensor([1])))


def roi_align(feats: Tensor, rois: Tensor, output_size: Tuple[int, int], spatial_scale: float,
              sampling_ratio: int, aligned: bool) -> Tensor:
    """mmcv's ``roi_align`` with ``pool_mode='avg'``; exported as ONNX ``RoiAlign``.

    Args:
        feats (Tensor): (1, C, H, W) features.
        rois (Tensor): (n, 5) RoIs ``(batch index, x1, y1, x2, y2)``.
        output_size (tuple[int, int]): Output height and width.
        spatial_scale (float): Feature pixels per input pixel.
        sampling_ratio (int): Samples per bin along each axis, 0 for adaptive.
        aligned (bool): Shift the RoI by half a pixel (``half_pixel``).

    Returns:
        Tensor: (n, C, *output_size) RoI features.
    """
    return _RoIAlign.apply(feats, rois, tuple(output_size), float(spatial_scale),
                           int(sampling_ratio), bool(aligned))


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Indices of the boxes mmcv's ``nms`` keeps, by decreasing score; exported as ONNX
    ``NonMaxSuppression``.

    Args:
        boxes (Tensor): (N, 4) boxes ``(x1, y1, x2, y2)``.
        scores (Tensor): (N,) scores.
        iou_threshold (float): Boxes overlapping a kept one by more are dropped.

    Returns:
        Tensor: (K,) int64 indices into ``boxes``.
    """
    return _NMS.apply(boxes, scores, float(iou_threshold))


class _ClassNMS(torch.autograd.Function):
    """mmcv's NMS of each class on its own boxes; in ONNX, one ``NonMaxSuppression`` over a
    (1, classes, N) score matrix in which a box scores in its own class only."""

    @staticmethod
    def forward(ctx, boxes: Tensor, scores: Tensor, labels: Tensor, num_classes: int,
                iou_threshold: float) -> Tensor:
        keep = [labels.new_zeros(0)]
        for label in range(num_classes):  # as ONNX Runtime: by class, then by decreasing score
            inds = (labels == label).nonzero().reshape(-1)
            if inds.numel():
                keep.append(inds[mmcv_nms(boxes[inds], scores[inds], iou_threshold)[1]])
        return torch.cat(keep)

    @staticmethod
    def symbolic(g, boxes, scores, labels, num_classes, iou_threshold):
        axis0 = _const(g, torch.tensor([0]))
        own = g.op('Equal', g.op('Unsqueeze', labels, axis0),  # (classes, N)
                   _const(g, torch.arange(num_classes, dtype=torch.int64).view(-1, 1)))
        # a box scores -1 in the other classes, below the score threshold of -0.5
        class_scores = g.op('Where', own, g.op('Unsqueeze', scores, axis0),
                            _const(g, torch.tensor(-1., dtype=torch.float32)))
        selected = g.op('NonMaxSuppression',
                        g.op('Unsqueeze', boxes, axis0),  # (1, N, 4)
                        g.op('Unsqueeze', class_scores, axis0),  # (1, classes, N)
                        _const(g, torch.tensor([_NMS_MAX_OUTPUT], dtype=torch.int64)),
                        _const(g, torch.tensor([iou_threshold], dtype=torch.float32)),
                        _const(g, torch.tensor([-0.5], dtype=torch.float32)))
        return g.op('Squeeze', g.op('Gather', selected, _const(g, torch.tensor([2])), axis_i=1),
                    _const(g, torch.tensor([1])))


def class_nms(boxes: Tensor, scores: Tensor, labels: Tensor, num_classes: int,
              iou_threshold: float) -> Tensor:
    """Indices of the boxes that mmcv's ``nms`` of each class keeps, class by class, in each
    class by decreasing score; exported as one ``NonMaxSuppression`` with a class per label.

    Args:
        boxes (Tensor): (N, 4) boxes ``(x1, y1, x2, y2)``.
        scores (Tensor): (N,) scores.
        labels (Tensor): (N,) int64 class of each box, in ``[0, num_classes)``.
        num_classes (int): Number of classes.
        iou_threshold (float): Boxes overlapping a kept one of their class by more are dropped.

    Returns:
        Tensor: (K,) int64 indices into ``boxes``.
    """
    return _ClassNMS.apply(boxes, scores, labels, int(num_classes), float(iou_threshold))
