"""The mask heads of ORCNN (paper 3.1): amodal and visible mask heads, and the occlusion mask head.

The amodal and the visible mask head share mmdet's FCNMaskHead architecture (four 3x3 conv + ReLU,
deconv, 1x1 predictor) and differ only in the ground truth they learn from; the occlusion
(invisible) mask head has no layers of its own, its logits are computed from the other two.
All three use FCNMaskHead's target and loss (per-pixel sigmoid BCE, 3.2) unchanged. Their masks
are pasted to image size by :mod:`mmorcnn.models.mask_paste`, bit for bit FCNMaskHead's paste of
each head, in one pass over the boxes for all kinds.
"""
import warnings
from typing import List, Optional, Tuple

import torch.nn.functional as F
from mmengine.config import ConfigDict
from torch import Tensor

from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.utils import InstanceList, OptConfigType
from mmorcnn.models.mask_paste import paste_masks_of_heads
from mmorcnn.structures.mask_kinds import MASK_KIND
from .mask_losses import MaskLossesMixin, mask_bce, mask_loss_name


_DEFAULT_LOSS = mask_bce(1.0)


@MODELS.register_module()
class AmodalMaskHead(MaskLossesMixin, FCNMaskHead):
    """An FCNMaskHead that learns and predicts one kind of ORCNN mask.

    ORCNN mounts two heads of this class on the same RoIs and RoI features: one with
    ``mask_type='amodal'``, one with ``mask_type='visible'``. The kind selects the ground truth
    field (``gt_instances.masks`` / ``.visible_masks``), the loss name (``loss_amodal_mask`` /
    ``loss_visible_mask``) and the result field (``pred_instances.masks`` / ``.visible_masks``).
    Mask targets are cropped from the positive RoIs, which are amodal boxes in ORCNN (3.2). Its
    target and loss are those of every mmorcnn mask head (:class:`MaskLossesMixin`) for its one
    output.

    Args:
        mask_type (str): ``'amodal'``, ``'visible'``, ``'invisible'`` or ``'occluder'`` (the
            union of the visible masks of the instances that hide part of this one, in
            ``gt_instances.occluder_masks``). Defaults to ``'amodal'``.
        loss_mask (dict, optional): Config of the mask loss. ``None`` switches this head's loss
            off while the head still predicts (e.g. ORCNN w/o L_V, paper 4.3). Defaults to a
            per-pixel sigmoid cross entropy with weight 1, as in Mask R-CNN.
        **kwargs: The arguments of :class:`FCNMaskHead` (``num_convs``, ``in_channels``,
            ``num_classes``, ``class_agnostic``, ...).
    """

    def __init__(self,
                 mask_type: str = 'amodal',
                 loss_mask: OptConfigType = _DEFAULT_LOSS,
                 **kwargs) -> None:
        if mask_type not in MASK_KIND:
            raise ValueError(f'mask_type must be one of {tuple(MASK_KIND)}, got {mask_type!r}')
        super().__init__(**kwargs)
        self.mask_type = mask_type
        self._init_mask_losses({mask_type: loss_mask})

    @property
    def main_kind(self) -> str:
        """str: The head's one kind, ``mask_type``."""
        return self.mask_type

    @property
    def mask_field(self) -> str:
        """str: The instance field of this head's masks, in the GT and in the results
        (:data:`~mmorcnn.structures.mask_kinds.MASK_KIND`)."""
        return MASK_KIND[self.mask_type].field

    @property
    def loss_name(self) -> str:
        """str: The key of this head's loss, e.g. ``loss_visible_mask``."""
        return mask_loss_name(self.mask_type)

    def loss_and_target(self, mask_preds: Tensor, sampling_results: List[SamplingResult],
                        batch_gt_instances: InstanceList, rcnn_train_cfg: ConfigDict) -> dict:
        """The loss of :class:`MaskLossesMixin` under this head's name; the targets as
        FCNMaskHead returns them.

        Returns:
            dict: ``loss_mask``: ``{self.loss_name: loss}`` (empty without a loss) and
            ``mask_targets``: (num_pos, h, w) targets (None without a loss).
        """
        results = super().loss_and_target(mask_preds, sampling_results, batch_gt_instances,
                                          rcnn_train_cfg)
        results['mask_targets'] = results['mask_targets'].get(self.mask_type)
        return results

    def predict_by_feat(self,
                        mask_preds: Tuple[Tensor],
                        results_list: InstanceList,
                        batch_img_metas: List[dict],
                        rcnn_test_cfg: ConfigDict,
                        rescale: bool = False,
                        activate_map: bool = False) -> InstanceList:
        """Paste binary masks into ``results.<mask_field>`` of every image.

        The amodal head behaves exactly like FCNMaskHead: it writes ``masks`` and, with
        ``rescale``, rescales ``results.bboxes`` in place. The other kinds leave the boxes and the
        amodal masks untouched; call them before the amodal head. To paste several kinds on the
        same boxes, :func:`~mmorcnn.models.mask_paste.paste_masks_of_heads` does it in one pass.

        Args: as :meth:`FCNMaskHead.predict_by_feat`.

        Returns:
            list[:obj:`InstanceData`]: ``results_list`` with ``<mask_field>``, (N, H, W) masks.
        """
        return paste_masks_of_heads([self], [mask_preds], results_list, batch_img_metas,
                                    rcnn_test_cfg, rescale, activate_map)


def losses_of_outputs(head: MaskLossesMixin, mask_preds: Tensor,
                      sampling_results: List[SamplingResult], batch_gt_instances: InstanceList,
                      rcnn_train_cfg: ConfigDict, labels: Tensor) -> dict:
    """Deprecated, to be removed in the next release: the losses of a head's outputs are its
    :meth:`MaskLossesMixin.loss_and_target`, which this returns (``labels`` are the positive
    RoIs' GT labels, or zeros when class-agnostic, as that method reads them)."""
    warnings.warn('losses_of_outputs is deprecated; call the head\'s loss_and_target '
                  '(mmorcnn.models.roi_heads.mask_heads.MaskLossesMixin)', DeprecationWarning,
                  stacklevel=2)
    return head.loss_and_target(mask_preds, sampling_results, batch_gt_instances, rcnn_train_cfg)


@MODELS.register_module()
class OcclusionMaskHead(AmodalMaskHead):
    """The occlusion (invisible) mask head of ORCNN: no parameters (paper 3.1).

    Its logits are ``amodal_logits - ReLU(visible_logits)``; its loss is the per-pixel sigmoid BCE
    against ``gt_instances.invisible_masks`` (L_IVM, 3.2), named ``loss_invisible_mask``, and its
    masks go to ``pred_instances.invisible_masks``.

    Args:
        num_classes (int): Number of classes; set by :class:`OcclusionRoIHead` from the amodal
            head. Defaults to 80.
        class_agnostic (bool): Whether the occlusion logits have a single channel; set by
            :class:`OcclusionRoIHead` (true only when the amodal and the visible head are both
            class-agnostic). Defaults to False.
        loss_mask (dict, optional): Config of L_IVM; ``None`` switches it off (ORCNN w/o L_IV,
            4.3). Defaults to a per-pixel sigmoid cross entropy with weight 1.
    """

    def __init__(self,
                 num_classes: int = 80,
                 class_agnostic: bool = False,
                 loss_mask: OptConfigType = _DEFAULT_LOSS,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            mask_type='invisible',
            loss_mask=loss_mask,
            num_convs=0,
            in_channels=1,
            upsample_cfg=dict(type=None),
            num_classes=num_classes,
            class_agnostic=class_agnostic,
            init_cfg=init_cfg)
        self.conv_logits = None  # the logits come from the amodal and the visible head

    def forward(self, amodal_logits: Tensor, visible_logits: Tensor) -> Tensor:
        """Occlusion logits from the amodal and visible logits of the same RoIs.

        Args:
            amodal_logits (Tensor): (N, C, h, w) logits of the amodal mask head.
            visible_logits (Tensor): (N, C or 1, h, w) logits of the visible mask head.

        Returns:
            Tensor: (N, C, h, w) occlusion logits.
        """
        # 3.1: the ReLU before the subtraction keeps a negative visible logit from enlarging the
        # occlusion, so no occlusion is predicted where neither the amodal nor the visible mask is.
        return amodal_logits - F.relu(visible_logits)
