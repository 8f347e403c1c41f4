"""The inference of an amodal two-stage detector as one traceable module, for ONNX export.

:class:`AmodalDetectorGraph` wraps a built ORCNN, AmodalMRCNN, BCNet or AISFormer model
(mmdet's ``TwoStageDetector`` with an ``RPNHead`` and an
:class:`~mmorcnn.models.OcclusionRoIHead`, mmdet's ``StandardRoIHead`` or an
:class:`~mmorcnn.models.AmodalRoIHead`): an image in; boxes, scores, labels and, per
detection, the probabilities of each kind of mask at the mask head's resolution out. Its layers
are the detector's own (backbone, neck, RPN convolutions, box head, mask heads, called as the
detector calls them); only the steps of mmdet's inference that ``torch.onnx`` cannot trace are
written here again, with mmdet's arithmetic:

* the data preprocessor: the padding to the size divisor is computed from the traced image
  size (mmengine pads in Python, to the size of the first traced image);
* the RPN's and the box head's post-processing: mmdet keeps detections with
  ``InstanceData`` indexing and Python branches on the number of boxes, which a trace would
  freeze; here the same selection (top ``nms_pre`` per level, box decoding by mmdet's
  ``delta2bbox``, clipping to the image, the small-box filter, the score threshold, the
  batched NMS with mmcv's coordinate offsets per level or class, ``max_per_img``) is made by
  tensor operations, with :func:`~mmorcnn.deployment.onnx_ops.nms` as ONNX
  ``NonMaxSuppression``;
* the multi-level RoI feature extraction: mmdet's ``SingleRoIExtractor`` skips levels without
  RoIs by a Python branch; here every level's RoIs are gathered by ``nonzero`` and their
  features scattered back (an empty level costs nothing), with
  :func:`~mmorcnn.deployment.onnx_ops.roi_align` as ONNX ``RoiAlign``.

What mmdet's inference does beyond this graph stays in Python (the ONNX Runtime inferencer,
:mod:`mmorcnn.apis.onnx_inferencer`): the test pipeline's loading and resizing, the paste of the
mask probabilities into the image (the package's :func:`paste_masks`) and the occlusion order.

Two known differences to mmdet, both of float rounding only: below 10000 boxes mmcv's
``batched_nms`` moves the boxes of each level or class apart by coordinate offsets and runs one
NMS (the graph always runs an NMS per level or class, as mmcv does from 10000 boxes on), and
ONNX computes ``log2`` (the RoI level assignment) as a quotient of natural logarithms.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdet.models.task_modules.coders.delta_xywh_bbox_coder import delta2bbox
from .onnx_ops import class_nms, nms, roi_align

#: The graph's input: the test pipeline's image (after its resize), 1 x 3 x H x W float32, in
#: the channel order the pipeline loads (the data preprocessor's normalisation is in the graph).
INPUT_NAME = 'image'
#: The outputs every exported model has: (N, 4) boxes ``(x1, y1, x2, y2)`` in the pixels of the
#: graph's input, (N,) scores and (N,) int64 labels, best first.
DETECTION_OUTPUTS = ('boxes', 'scores', 'labels')
#: mmdet's default ``wh_ratio_clip`` of ``DeltaXYWHBBoxCoder.decode``, used by both stages.
WH_RATIO_CLIP = 16 / 1000

Size = Union[int, Tensor]


def mask_output_name(kind: str) -> str:
    """The name of the output with the (N, h, w) mask probabilities of a kind of mask."""
    return f'{kind}_mask_probs'


def _tensor(value: Size, like: Tensor) -> Tensor:
    """``value`` (a traced size or a Python int) as a 0-dim tensor of ``like``'s dtype."""
    if isinstance(value, Tensor):
        return value.to(device=like.device, dtype=like.dtype)
    return like.new_tensor(value)


def clip_boxes(boxes: Tensor, height: Size, width: Size) -> Tensor:
    """``(x1, y1, x2, y2)`` boxes clamped to ``[0, width] x [0, height]``, as mmdet's
    ``delta2bbox`` clips to ``max_shape`` (whose in-place clamp of strided slices does not
    trace with a traced size)."""
    xs = torch.minimum(boxes[:, 0::2].clamp(min=0), _tensor(width, boxes))
    ys = torch.minimum(boxes[:, 1::2].clamp(min=0), _tensor(height, boxes))
    return torch.stack([xs[:, 0], ys[:, 0], xs[:, 1], ys[:, 1]], dim=1)


def decode_boxes(coder, rois: Tensor, deltas: Tensor, height: Size, width: Size) -> Tensor:
    """``coder.decode(rois, deltas, max_shape=(height, width))`` of a ``DeltaXYWHBBoxCoder``
    for (n, 4) RoIs and (n, 4) deltas, by mmdet's ``delta2bbox``.

    ``delta2bbox`` returns early for zero boxes, a branch a trace would freeze; one zero row is
    appended to both inputs (and its box dropped), so the branch is never taken.
    """
    pad = rois.new_zeros(1, 4)
    boxes = delta2bbox(torch.cat([rois, pad]), torch.cat([deltas, pad]), coder.means, coder.stds,
                       None, WH_RATIO_CLIP, False, coder.add_ctr_clamp, coder.ctr_clamp)[:-1]
    return clip_boxes(boxes, height, width) if coder.clip_border else boxes


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, num_groups: int,
                nms_cfg: dict) -> Tensor:
    """Indices of the boxes mmcv's ``batched_nms`` keeps, by decreasing score: an NMS of the
    boxes of each ``idxs`` value (one of ``num_groups``) on their own (all together with
    ``class_agnostic``), the kept boxes then sorted by score.

    mmcv moves the groups apart by coordinate offsets and runs one NMS over all boxes (per group
    beyond 10,000 boxes); here each group is a class of one ONNX ``NonMaxSuppression``
    (:func:`class_nms`), which keeps the same boxes without comparing boxes of different groups:
    with a class-specific box head and ``score_thr=0`` that is thousands of boxes fewer to
    compare per box.
    """
    if nms_cfg.get('class_agnostic', False):
        return nms(boxes, scores, nms_cfg['iou_threshold'])
    keep = class_nms(boxes, scores, idxs, num_groups, nms_cfg['iou_threshold'])
    return keep[scores[keep].sort(descending=True)[1]]


class AmodalDetectorGraph(nn.Module):
    """An amodal detector's inference from image to per-detection mask probabilities, as
    one traceable module (see the module docstring for what it rewrites and why).

    Check the detector with :func:`~mmorcnn.deployment.export_problems` first; this class
    assumes the parts it names.

    Args:
        detector (nn.Module): The built detector, weights loaded, in eval mode.
        kinds (Sequence[str]): The mask kinds of the outputs, in output order: ``amodal``,
            then ``visible`` and ``invisible`` where the model predicts them
            (:func:`~mmorcnn.deployment.export.mask_kinds`).

    Returns of :meth:`forward`:
        tuple[Tensor]: ``boxes`` (N, 4), ``scores`` (N,), ``labels`` (N,) int64, then per mask
        kind its (N, h, w) probabilities in the channel of each detection's label.
    """

    def __init__(self, detector: nn.Module, kinds: Sequence[str]) -> None:
        super().__init__()
        self.detector = detector
        self.kinds = list(kinds)
        self.rpn_cfg = detector.test_cfg.rpn
        self.rcnn_cfg = detector.test_cfg.rcnn

    @property
    def output_names(self) -> List[str]:
        return list(DETECTION_OUTPUTS) + [mask_output_name(kind) for kind in self.kinds]

    def preprocess(self, image: Tensor) -> Tensor:
        """mmdet's ``DetDataPreprocessor`` on one image: channel flip, normalisation, padding to
        the size divisor (bottom and right, with ``pad_value``)."""
        prep = self.detector.data_preprocessor
        if prep._channel_conversion:
            image = image[:, [2, 1, 0]]
        image = image.float()
        if prep._enable_normalize:
            image = (image - prep.mean) / prep.std
        divisor = prep.pad_size_divisor
        height, width = image.shape[2], image.shape[3]
        pad_h = (height + divisor - 1) // divisor * divisor - height
        pad_w = (width + divisor - 1) // divisor * divisor - width
        return F.pad(image, (0, pad_w, 0, pad_h), value=prep.pad_value)

    def forward(self, image: Tensor) -> Tuple[Tensor, ...]:
        height, width = image.shape[2], image.shape[3]
        feats = self.detector.extract_feat(self.preprocess(image))
        proposals = self.proposals(feats, height, width)
        boxes, scores, labels = self.detections(feats, proposals, height, width)
        return (boxes, scores, labels) + tuple(self.mask_probs(feats, boxes, labels))

    def proposals(self, feats: Tuple[Tensor], height: Size, width: Size) -> Tensor:
        """The RPN's (n, 4) proposals, as ``RPNHead.predict_by_feat`` with ``test_cfg.rpn``."""
        rpn_head, cfg = self.detector.rpn_head, self.rpn_cfg
        cls_scores, bbox_preds = rpn_head(feats)
        priors = rpn_head.prior_generator.grid_priors(
            [score.shape[-2:] for score in cls_scores], dtype=cls_scores[0].dtype,
            device=cls_scores[0].device)
        nms_pre = cfg.get('nms_pre', -1)
        mlvl_scores, mlvl_deltas, mlvl_priors, level_ids = [], [], [], []
        for level, (cls_score, bbox_pred, level_priors) in enumerate(
                zip(cls_scores, bbox_preds, priors)):
            scores = cls_score[0].permute(1, 2, 0).reshape(-1).sigmoid()
            deltas = bbox_pred[0].permute(1, 2, 0).reshape(-1, 4)
            if nms_pre > 0:
                inds = self._top(scores, nms_pre)
                scores, deltas, level_priors = scores[inds], deltas[inds], level_priors[inds]
            mlvl_scores.append(scores)
            mlvl_deltas.append(deltas)
            mlvl_priors.append(level_priors)
            level_ids.append(torch.full_like(scores, level, dtype=torch.long))
        scores = torch.cat(mlvl_scores)
        level_ids = torch.cat(level_ids)
        boxes = decode_boxes(rpn_head.bbox_coder, torch.cat(mlvl_priors), torch.cat(mlvl_deltas),
                             height, width)
        if cfg.get('min_bbox_size', -1) >= 0:
            w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
            valid = ((w > cfg.min_bbox_size) & (h > cfg.min_bbox_size)).nonzero().reshape(-1)
            boxes, scores, level_ids = boxes[valid], scores[valid], level_ids[valid]
        keep = batched_nms(boxes, scores, level_ids, len(cls_scores),
                           cfg.nms)[:cfg.max_per_img]
        return boxes[keep]

    @staticmethod
    def _top(scores: Tensor, nms_pre: int) -> Tensor:
        """Indices of the ``nms_pre`` best scores of a level by decreasing score (mmdet's stable
        sort), or of all its scores in their order when it has no more than ``nms_pre``."""
        num = scores.shape[0]
        if not isinstance(num, Tensor):  # not traced: the branch of mmdet
            if num <= nms_pre:
                return torch.arange(num, device=scores.device)
            return scores.topk(nms_pre)[1]
        inds = scores.topk(torch.clamp(num, max=nms_pre))[1]
        return torch.where(num <= nms_pre, inds.sort()[0], inds)

    def detections(self, feats: Tuple[Tensor], proposals: Tensor, height: Size,
                   width: Size) -> Tuple[Tensor, Tensor, Tensor]:
        """Boxes, scores and labels, as ``BBoxHead.predict_by_feat`` with ``test_cfg.rcnn``
        (``multiclass_nms``), in the pixels of the input."""
        roi_head, cfg = self.detector.roi_head, self.rcnn_cfg
        bbox_head = roi_head.bbox_head
        rois = torch.cat([proposals.new_zeros(proposals.shape[0], 1), proposals], dim=1)
        cls_score, bbox_pred = bbox_head(roi_features(roi_head.bbox_roi_extractor, feats, rois))
        scores = F.softmax(cls_score, dim=-1)[:, :-1]
        num_rois, num_classes = scores.shape[0], bbox_head.num_classes
        if bbox_head.reg_class_agnostic:
            boxes = decode_boxes(bbox_head.bbox_coder, proposals, bbox_pred, height, width)
            boxes = boxes[:, None].expand(num_rois, num_classes, 4)
        else:
            boxes = decode_boxes(bbox_head.bbox_coder,
                                 proposals.repeat_interleave(num_classes, dim=0),
                                 bbox_pred.reshape(-1, 4), height, width)
        labels = torch.arange(num_classes, device=scores.device).view(1, -1).expand_as(scores)
        boxes, scores, labels = boxes.reshape(-1, 4), scores.reshape(-1), labels.reshape(-1)
        valid = (scores > cfg.score_thr).nonzero().reshape(-1)
        boxes, scores, labels = boxes[valid], scores[valid], labels[valid]
        keep = batched_nms(boxes, scores, labels, num_classes, cfg.nms)
        if cfg.max_per_img > 0:
            keep = keep[:cfg.max_per_img]
        return boxes[keep], scores[keep], labels[keep]

    def mask_probs(self, feats: Tuple[Tensor], boxes: Tensor, labels: Tensor) -> List[Tensor]:
        """Per mask kind, the (N, h, w) sigmoid of each detection's logits in its label's
        channel (the first for a class-agnostic head), as the RoI head's mask prediction.

        One RoI more than the detections goes through the mask heads (its output dropped): a
        head that flattens its features by ``reshape(n, c, -1)`` (BCNet's non-local block,
        AISFormer's transformer) has no ONNX form for zero RoIs.
        """
        roi_head = self.detector.roi_head
        num = boxes.shape[0]
        rois = torch.cat([boxes.new_zeros(num + 1, 1),
                          torch.cat([boxes, boxes.new_tensor([[0, 0, 1, 1]])])], dim=1)
        logits = kind_logits(roi_head, roi_features(roi_head.mask_roi_extractor, feats, rois))
        rows = torch.arange(num, device=boxes.device)
        probs = []
        for kind in self.kinds:
            kind_logit, class_agnostic = logits[kind]
            channels = labels.new_zeros(labels.shape) if class_agnostic else labels
            probs.append(kind_logit[:-1][rows, channels].sigmoid())
        return probs


def kind_logits(roi_head: nn.Module, mask_feats: Tensor) -> Dict[str, Tuple[Tensor, bool]]:
    """``{kind: ((n, C, h, w) logits, class-agnostic)}`` of the masks an RoI head predicts
    from RoI features: ORCNN's amodal, visible and occlusion heads (the occlusion head takes
    the other two's logits), mmdet's one mask head (AmodalMRCNN), or the one head of an
    :class:`~mmorcnn.models.AmodalRoIHead` whose ``kind_logits`` splits its output (BCNet,
    AISFormer)."""
    mask_head = roi_head.mask_head
    if hasattr(mask_head, 'kind_logits'):
        agnostic = bool(getattr(mask_head, 'class_agnostic', True))
        return {kind: (value, agnostic)
                for kind, value in mask_head.kind_logits(mask_head(mask_feats)).items()}
    logits = {'amodal': (mask_head(mask_feats), mask_head.class_agnostic)}
    visible_head = getattr(roi_head, 'visible_mask_head', None)
    if visible_head is not None:
        logits['visible'] = (visible_head(mask_feats), visible_head.class_agnostic)
    invisible_head = getattr(roi_head, 'invisible_mask_head', None)
    if invisible_head is not None:
        logits['invisible'] = (invisible_head(logits['amodal'][0], logits['visible'][0]),
                               invisible_head.class_agnostic)
    return logits

def roi_features(extractor: nn.Module, feats: Tuple[Tensor], rois: Tensor,
                 level_ids: Optional[Tensor] = None) -> Tensor:
    """``SingleRoIExtractor(feats, rois)`` of mmdet, every level's RoIs gathered by index (see
    the module docstring).

    Args:
        extractor (nn.Module): mmdet's ``SingleRoIExtractor`` with mmcv ``RoIAlign`` layers.
        feats (tuple[Tensor]): The neck's feature maps (the first ``num_inputs`` are used).
        rois (Tensor): (n, 5) RoIs ``(0, x1, y1, x2, y2)``.
        level_ids (Tensor, optional): The level of each RoI. Defaults to the extractor's
            ``map_roi_levels``.

    Returns:
        Tensor: (n, C, h, w) RoI features.
    """
    num_levels = len(extractor.featmap_strides)
    if level_ids is None:
        level_ids = extractor.map_roi_levels(rois, num_levels)
    layer = extractor.roi_layers[0]
    roi_feats = feats[0].new_zeros(rois.shape[0], extractor.out_channels, *layer.output_size)
    for level, (feat, layer) in enumerate(zip(feats[:num_levels], extractor.roi_layers)):
        inds = (level_ids == level).nonzero().reshape(-1)
        level_feats = roi_align(feat, rois[inds], layer.output_size, layer.spatial_scale,
                                layer.sampling_ratio, layer.aligned)
        # a scatter of whole rows (ONNX ScatterElements), which takes an empty level; the
        # index assignment roi_feats[inds] = ... exports to a ScatterND whose reshape fails
        # on one
        roi_feats = roi_feats.scatter(
            0, inds.view(-1, 1, 1, 1).expand_as(level_feats), level_feats)
    return roi_feats
