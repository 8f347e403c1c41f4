"""OcclusionRoIHead: the RoI head of Occlusion R-CNN (ORCNN, paper 3.1-3.2)."""
from typing import List, Optional, Tuple

import numpy as np
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.models.utils import empty_instances
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from mmdet.utils import InstanceList, OptConfigType
from mmorcnn.models.mask_paste import mask_paste_windows, paste_masks_of_heads
from mmorcnn.structures.occlusion_order import occlusion_graph
from .mask_heads import AmodalMaskHead


def add_occlusion_order(results: InstanceData,
                        windows: Optional[np.ndarray] = None) -> InstanceData:
    """Add the occlusion order of one image's detections, computed from their pasted binary
    ``masks``, ``visible_masks`` and ``invisible_masks`` by the one rule of
    :func:`~mmorcnn.structures.occlusion_graph`: ``occluders`` ((N, N) bool, ``[i, j]`` true when
    instance j hides part of instance i) and ``depth`` ((N,) long, 0 for an instance nothing
    hides).

    Args:
        results (:obj:`InstanceData`): One image's detections with the three kinds of mask.
        windows (np.ndarray, optional): ``(N, 4)`` ``[y0, y1, x0, x1)`` of each detection
            outside which its masks are empty, as
            :func:`~mmorcnn.models.mask_paste.mask_paste_windows` gives them for masks the heads
            pasted: the masks are then read inside them only. Defaults to None (the whole
            image).

    Returns:
        :obj:`InstanceData`: ``results``, with the two fields added.
    """
    graph = occlusion_graph(results.masks, results.visible_masks, results.invisible_masks,
                            windows=windows)
    results.occluders = graph.occluders
    results.depth = graph.depth
    return results


@MODELS.register_module()
class OcclusionRoIHead(StandardRoIHead):
    """Mask R-CNN's RoI head with amodal, visible and occlusion mask heads (ORCNN).

    The box head learns amodal boxes (``gt_instances.bboxes``). ``mask_head`` is the amodal mask
    head (an :class:`AmodalMaskHead`); ``visible_mask_head`` has the same architecture and runs on
    the same RoIs and the same RoI features; ``invisible_mask_head`` (an
    :class:`OcclusionMaskHead`) has no parameters: occlusion logits = amodal logits -
    ReLU(visible logits). Training minimises L = L_cls + L_box + L_AM + L_VM + L_IVM (3.2); each
    mask loss is configured, or switched off with ``loss_mask=None``, in its own head.

    Mask predictions are written to ``masks`` (amodal), ``visible_masks`` and
    ``invisible_masks``; in tensor mode :meth:`forward` returns the logits of each head. With
    both the visible and the occlusion head, predictions also carry the occlusion order of the
    image's instances, computed from the predicted masks by the one rule of
    :func:`~mmorcnn.structures.occlusion_graph`: ``occluders`` ((N, N) bool, ``[i, j]`` true when
    instance j hides part of instance i) and ``depth`` ((N,) long, 0 for an instance nothing
    hides). ``test_cfg.occlusion_order=False`` (in ``model.test_cfg.rcnn``) leaves them out.

    Args:
        visible_mask_head (dict, optional): Config of the visible mask head; arguments it does
            not set (``num_convs``, channels, ``num_classes``, ``class_agnostic``, ...) are taken
            from ``mask_head``, as both heads share one architecture (3.1). ``None`` leaves only
            the amodal mask head (AmodalMRCNN). Defaults to None.
        invisible_mask_head (dict, optional): Config of the occlusion mask head; needs a visible
            mask head. Its ``num_classes`` and ``class_agnostic`` follow from the other two heads.
            Defaults to None.
        independent (bool): ORCNN (independent), paper 4.3: L_VM and L_IVM send no gradient into
            the amodal mask head nor into the RoI feature extraction and backbone. Defaults to
            False.
        **kwargs: The arguments of :class:`StandardRoIHead` (``bbox_roi_extractor``,
            ``bbox_head``, ``mask_roi_extractor``, ``mask_head``, ``train_cfg``, ``test_cfg``).
    """

    def __init__(self,
                 visible_mask_head: OptConfigType = None,
                 invisible_mask_head: OptConfigType = None,
                 independent: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.independent = independent
        self.visible_mask_head = None
        self.invisible_mask_head = None
        if visible_mask_head is not None:
            assert self.with_mask, 'the visible mask head needs the amodal mask_head'
            # 3.1: the visible head has the amodal head's architecture unless its config says
            # otherwise (num_convs, channels, num_classes, class_agnostic, ...).
            architecture = {
                key: value
                for key, value in kwargs['mask_head'].items()
                if key not in ('type', 'mask_type', 'loss_mask', 'init_cfg')
            }
            self.visible_mask_head = MODELS.build(visible_mask_head, default_args=architecture)
        if invisible_mask_head is not None:
            assert self.visible_mask_head is not None, \
                'the occlusion mask head needs the visible mask head'
            # The occlusion logits have one channel per class unless both inputs are agnostic.
            self.invisible_mask_head = MODELS.build(
                invisible_mask_head,
                default_args=dict(
                    num_classes=self.mask_head.num_classes,
                    class_agnostic=self.mask_head.class_agnostic
                    and self.visible_mask_head.class_agnostic))

    @property
    def with_visible_mask(self) -> bool:
        """bool: Whether the head predicts visible masks."""
        return self.visible_mask_head is not None

    @property
    def with_invisible_mask(self) -> bool:
        """bool: Whether the head predicts occlusion (invisible) masks."""
        return self.invisible_mask_head is not None

    @property
    def with_occlusion_order(self) -> bool:
        """bool: Whether predictions carry ``occluders`` and ``depth`` (needs the visible and
        occlusion heads; ``test_cfg.occlusion_order``, default True, switches it off)."""
        return (self.with_visible_mask and self.with_invisible_mask
                and self.test_cfg is not None and bool(self.test_cfg.get('occlusion_order', True)))

    def _extra_mask_heads(self) -> List[Tuple[str, AmodalMaskHead]]:
        """(key in the dict of :meth:`_mask_forward`, head) of the visible and occlusion heads."""
        heads = [('visible_mask_preds', self.visible_mask_head),
                 ('invisible_mask_preds', self.invisible_mask_head)]
        return [(key, head) for key, head in heads if head is not None]

    def forward(self,
                x: Tuple[Tensor],
                rpn_results_list: InstanceList,
                batch_data_samples: SampleList = None) -> tuple:
        """Tensor mode: box scores and deltas, then amodal, visible and occlusion mask logits.

        Returns:
            tuple: ``(cls_score, bbox_pred, amodal_logits[, visible_logits,
            invisible_logits])``, the mask logits for the first 100 proposals.
        """
        rois = bbox2roi([rpn_results.bboxes for rpn_results in rpn_results_list])
        bbox_results = self._bbox_forward(x, rois)
        results = (bbox_results['cls_score'], bbox_results['bbox_pred'])
        if self.with_mask:
            mask_results = self._mask_forward(x, rois[:100])
            results = results + tuple(
                mask_results[key] for key in ('mask_preds', 'visible_mask_preds',
                                              'invisible_mask_preds') if key in mask_results)
        return results

    def _mask_forward(self,
                      x: Tuple[Tensor],
                      rois: Tensor = None,
                      pos_inds: Optional[Tensor] = None,
                      bbox_feats: Optional[Tensor] = None) -> dict:
        """Run every mask head on the same RoI features.

        Returns:
            dict: StandardRoIHead's ``mask_preds`` (amodal logits) and ``mask_feats``, plus
            ``visible_mask_preds`` and ``invisible_mask_preds`` when those heads exist.
        """
        mask_results = super()._mask_forward(x, rois, pos_inds, bbox_feats)
        if not self.with_visible_mask:
            return mask_results
        mask_feats, amodal_logits = mask_results['mask_feats'], mask_results['mask_preds']
        if self.independent:
            # 4.3, ORCNN (independent): the visible and occlusion losses stop at these tensors.
            mask_feats, amodal_logits = mask_feats.detach(), amodal_logits.detach()
        visible_logits = self.visible_mask_head(mask_feats)
        mask_results['visible_mask_preds'] = visible_logits
        if self.with_invisible_mask:
            mask_results['invisible_mask_preds'] = self.invisible_mask_head(
                amodal_logits, visible_logits)
        return mask_results

    def mask_loss(self, x: Tuple[Tensor], sampling_results: List[SamplingResult],
                  bbox_feats: Tensor, batch_gt_instances: InstanceList) -> dict:
        """StandardRoIHead's mask loss (L_AM) plus L_VM and L_IVM on the same positive RoIs.

        Returns:
            dict: As :meth:`StandardRoIHead.mask_loss`; ``loss_mask`` holds every mask loss
            that is switched on (``loss_amodal_mask``, ``loss_visible_mask``,
            ``loss_invisible_mask``).
        """
        mask_results = super().mask_loss(x, sampling_results, bbox_feats, batch_gt_instances)
        for key, head in self._extra_mask_heads():
            mask_results['loss_mask'].update(
                head.loss_and_target(mask_results[key], sampling_results, batch_gt_instances,
                                     self.train_cfg)['loss_mask'])
        return mask_results

    def predict(self,
                x: Tuple[Tensor],
                rpn_results_list: InstanceList,
                batch_data_samples: SampleList,
                rescale: bool = False) -> InstanceList:
        """StandardRoIHead's boxes and masks, then :meth:`predict_occlusion_order` of each image
        (when :attr:`with_occlusion_order`)."""
        results_list = super().predict(x, rpn_results_list, batch_data_samples, rescale)
        if self.with_occlusion_order:
            results_list = [self.predict_occlusion_order(results) for results in results_list]
        return results_list

    def predict_occlusion_order(self, results: InstanceData) -> InstanceData:
        """Add ``occluders`` ((N, N) bool) and ``depth`` ((N,) long) of the instances of one
        image, from their pasted binary masks, to ``results`` (:func:`add_occlusion_order`),
        reading each instance's masks inside the window its box was pasted into only."""
        return add_occlusion_order(results, mask_paste_windows(results))

    def predict_mask(self,
                     x: Tuple[Tensor],
                     batch_img_metas: List[dict],
                     results_list: InstanceList,
                     rescale: bool = False) -> InstanceList:
        """Predict the binary masks of every kind for the detected boxes.

        Returns:
            list[:obj:`InstanceData`]: ``results_list`` with ``masks`` (amodal),
            ``visible_masks`` and ``invisible_masks`` (those the head has), each (N, H, W) bool,
            at the original image size with ``rescale``, otherwise at the network input size.
        """
        if not self.with_visible_mask:
            return super().predict_mask(x, batch_img_metas, results_list, rescale)
        mask_rois = bbox2roi([res.bboxes for res in results_list])
        if mask_rois.shape[0] == 0:
            results_list = empty_instances(
                batch_img_metas,
                mask_rois.device,
                task_type='mask',
                instance_results=results_list,
                mask_thr_binary=self.test_cfg.mask_thr_binary)
            for results in results_list:
                for _, head in self._extra_mask_heads():
                    results[head.mask_field] = results.masks.clone()
            return results_list

        mask_results = self._mask_forward(x, mask_rois)
        num_mask_rois_per_img = [len(res) for res in results_list]
        # All kinds in one paste: every box is pasted once for its amodal, visible and invisible
        # masks (bit for bit what each head would paste on its own).
        kinds = [('mask_preds', self.mask_head)] + self._extra_mask_heads()
        return paste_masks_of_heads(
            [head for _, head in kinds],
            [mask_results[key].split(num_mask_rois_per_img, 0) for key, _ in kinds],
            results_list, batch_img_metas, self.test_cfg, rescale)
