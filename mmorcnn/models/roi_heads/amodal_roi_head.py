"""AmodalRoIHead: the RoI head of a mask head that predicts every kind of mask itself
(BCNet's :class:`~mmorcnn.models.BCNetMaskHead`, AISFormer's
:class:`~mmorcnn.models.AISFormerMaskHead`)."""
from typing import List, Tuple

from torch import Tensor

from mmdet.models.roi_heads import StandardRoIHead
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import InstanceList
from mmorcnn.models.mask_paste import mask_paste_windows
from mmorcnn.structures.mask_kinds import MASK_KIND
from .occlusion_roi_head import add_occlusion_order


@MODELS.register_module()
class AmodalRoIHead(StandardRoIHead):
    """mmdet's StandardRoIHead around one mask head that learns and predicts the amodal, visible
    and invisible masks together, such as AISFormer's transformer mask head (Tran et al.,
    "AISFormer: Amodal Instance Segmentation with Transformer", BMVC 2022).

    The box head learns amodal boxes (``gt_instances.bboxes``); the mask head gets the positive
    RoIs' features and returns every loss it has (``loss_<kind>_mask``) from
    ``loss_and_target``, and pastes ``masks`` (amodal), ``visible_masks`` and
    ``invisible_masks`` in ``predict_by_feat``. Images without detections get empty masks of
    every kind. As :class:`OcclusionRoIHead`, predictions carry the occlusion order of each
    image's instances (``occluders``, ``depth``; :func:`add_occlusion_order`) unless
    ``test_cfg.occlusion_order=False`` (in ``model.test_cfg.rcnn``).

    Args: as :class:`StandardRoIHead`.
    """

    @property
    def with_occlusion_order(self) -> bool:
        """bool: Whether predictions carry ``occluders`` and ``depth``."""
        return (self.with_mask and self.test_cfg is not None
                and bool(self.test_cfg.get('occlusion_order', True)))

    def predict(self,
                x: Tuple[Tensor],
                rpn_results_list: InstanceList,
                batch_data_samples: SampleList,
                rescale: bool = False) -> InstanceList:
        """StandardRoIHead's boxes and masks, then the occlusion order of each image (when
        :attr:`with_occlusion_order`)."""
        results_list = super().predict(x, rpn_results_list, batch_data_samples, rescale)
        if self.with_occlusion_order:
            results_list = [
                add_occlusion_order(results, mask_paste_windows(results))
                for results in results_list
            ]
        return results_list

    def predict_mask(self,
                     x: Tuple[Tensor],
                     batch_img_metas: List[dict],
                     results_list: InstanceList,
                     rescale: bool = False) -> InstanceList:
        """StandardRoIHead's masks of the detected boxes, every kind the mask head pastes.

        Returns:
            list[:obj:`InstanceData`]: ``results_list`` with ``masks`` (amodal),
            ``visible_masks`` and ``invisible_masks``, each (N, H, W) bool, at the original image
            size with ``rescale``, otherwise at the network input size.
        """
        results_list = super().predict_mask(x, batch_img_metas, results_list, rescale)
        for results in results_list:
            # no box in the whole batch: mmdet's empty_instances gives only the amodal masks
            for field in (MASK_KIND['visible'].field, MASK_KIND['invisible'].field):
                if field not in results:
                    results[field] = results.masks.clone()
        return results_list
