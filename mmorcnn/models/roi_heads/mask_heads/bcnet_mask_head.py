"""The bilayer mask head of BCNet (Ke, Tai, Tang, "Deep Occlusion-Aware Instance Segmentation
with Overlapping BiLayers", CVPR 2021), in its amodal form (the aistron add-on's BCNet).

Two stacked branches on the RoI features (paper 3.2-3.3):

1. the **occluder** branch (first layer): 3x3 convolutions with a non-local operator (the paper's
   graph convolution over the RoI's pixels) after the second; from its features a deconvolution
   and a 1x1 predictor each give the occluder's mask (the union of the visible masks of the
   instances that hide the object) and its boundary;
2. the **occludee** branch (second layer) gets the RoI features *plus* the occluder features, has
   the same layers, and gives the object's amodal mask and boundary.

Every output learns with a per-pixel sigmoid BCE against its ground truth cropped with the
positive RoIs; boundaries are computed from the cropped mask targets (:func:`mask_boundaries`).
The visible and invisible masks, which BCNet has no head for, follow from the two masks of each
RoI: visible = amodal AND NOT occluder, invisible = amodal AND occluder.
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmcv.cnn import ConvModule, NonLocal2d, build_conv_layer, build_upsample_layer
from mmengine.config import ConfigDict
from mmengine.model.weight_init import kaiming_init
from torch import Tensor, nn

from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.registry import MODELS
from mmdet.utils import InstanceList, OptConfigType
from mmorcnn.models.mask_paste import paste_masks
from mmorcnn.structures.mask_kinds import MASK_KIND
# mask_boundaries: also importable from here, where it was defined
from .mask_losses import MaskLossesMixin, mask_bce, mask_boundaries, mask_loss_name  # noqa: F401

#: The outputs of the head, in the order of its output channel groups.
BCNET_KINDS = ('amodal', 'amodal_boundary', 'occluder', 'occluder_boundary')


@MODELS.register_module()
class BCNetMaskHead(MaskLossesMixin, FCNMaskHead):
    """BCNet's bilayer mask head (Ke et al., CVPR 2021; module docstring), amodal form.

    FCNMaskHead's layers (``convs``, ``upsample``, ``conv_logits``) are the occludee branch's
    amodal mask path; the head adds the occluder branch (``occluder_convs``), the non-local
    operators and a deconvolution + 1x1 predictor for each other output. ``forward`` returns the
    logits of the four outputs as channel groups of one tensor, in the order of
    :data:`BCNET_KINDS`, each ``num_classes`` channels (one when ``class_agnostic``); a RoI's
    outputs are read in the channel of its class, as FCNMaskHead's mask.

    The head learns from ``gt_instances.masks`` (amodal) and ``gt_instances.occluder_masks``
    (``LoadAmodalAnnotations(with_occluder=True)``) and predicts ``masks`` (amodal),
    ``visible_masks`` (amodal AND NOT occluder) and ``invisible_masks`` (amodal AND occluder):
    on probabilities, AND is the minimum and NOT p is 1 - p, so at the 28 x 28 resolution the
    visible and invisible masks split the amodal mask exactly; each is then pasted into the image
    as FCNMaskHead pastes its masks. Mount it in :class:`~mmorcnn.models.AmodalRoIHead`.

    Args:
        num_convs (int): 3x3 convolutions of each branch. Defaults to 4 (Mask R-CNN's and the
            authors' mask head).
        nonlocal_after (int, optional): Number of convolutions of each branch before its
            non-local operator; ``None`` leaves the operators out. Defaults to 2 (the authors'
            code).
        loss_mask (dict, optional): Config of the amodal mask loss, ``None`` to switch it off.
            Defaults to a per-pixel sigmoid BCE of weight 1.
        loss_amodal_boundary, loss_occluder_mask, loss_occluder_boundary (dict, optional):
            Config of the loss of each other output, ``None`` to switch it off. Defaults to
            per-pixel sigmoid BCE with the effective weights of the authors' code (lkeab/BCNet):
            amodal boundary 1, occluder mask 0.25, occluder boundary 1 (each boundary loss
            there is the sum of two equal BCE terms times 0.5).
        occluder_loss_avg (str): Which positive RoIs the occluder mask and occluder boundary
            losses average over: ``'all'``, ``'nonempty'`` (those with a non-empty occluder
            target) or ``'nonempty_and_first'`` (as the authors' code;
            :func:`~mmorcnn.models.roi_heads.mask_heads.mask_losses.occluder_loss_rois`).
            Defaults to ``'all'``.
        **kwargs: The arguments of :class:`FCNMaskHead` (``roi_feat_size``, ``in_channels``,
            ``conv_out_channels``, ``num_classes``, ``class_agnostic``, ``conv_cfg``,
            ``norm_cfg``, ``init_cfg``, ...); ``upsample_cfg`` must be a deconvolution.
    """

    def __init__(self,
                 num_convs: int = 4,
                 nonlocal_after: Optional[int] = 2,
                 loss_mask: OptConfigType = mask_bce(1.0),
                 loss_amodal_boundary: OptConfigType = mask_bce(1.0),
                 loss_occluder_mask: OptConfigType = mask_bce(0.25),
                 loss_occluder_boundary: OptConfigType = mask_bce(1.0),
                 occluder_loss_avg: str = 'all',
                 **kwargs) -> None:
        super().__init__(num_convs=num_convs, **kwargs)
        if self.upsample_method != 'deconv':
            raise ValueError(f"BCNetMaskHead upsamples with a deconvolution, got upsample_cfg "
                             f"type {self.upsample_method!r}")
        if nonlocal_after is not None and not 1 <= nonlocal_after <= num_convs:
            raise ValueError(f'nonlocal_after must be in [1, num_convs={num_convs}] or None, '
                             f'got {nonlocal_after}')
        self.nonlocal_after = nonlocal_after
        self._init_mask_losses(dict(amodal=loss_mask, amodal_boundary=loss_amodal_boundary,
                                    occluder=loss_occluder_mask,
                                    occluder_boundary=loss_occluder_boundary),
                               occluder_loss_avg)

        channels = self.conv_out_channels
        padding = (self.conv_kernel_size - 1) // 2
        self.occluder_convs = nn.ModuleList([
            ConvModule(self.in_channels if i == 0 else channels, channels,
                       self.conv_kernel_size, padding=padding, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg) for i in range(num_convs)
        ])
        # The paper's graph convolution: a non-local operator (softmax of scaled dot products
        # between the RoI's pixels), its output normalised by a BatchNorm that starts at zero
        # (eps 1e-4 as the authors'; their query, key and value projections have no bias, mmcv's
        # have one).
        def nonlocal_block() -> Optional[nn.Module]:
            if nonlocal_after is None:
                return None
            return NonLocal2d(channels, reduction=1, use_scale=True,
                              norm_cfg=dict(type='BN', eps=1e-4), mode='embedded_gaussian')

        self.occluder_nonlocal = nonlocal_block()
        self.occludee_nonlocal = nonlocal_block()
        # 3.3: the occluder features are added to the RoI features entering the occludee branch;
        # a 1x1 convolution matches the channels where the branches are narrower than the input
        self.occluder_to_input = (nn.Identity() if channels == self.in_channels else
                                  nn.Conv2d(channels, self.in_channels, 1))
        self.outputs = nn.ModuleDict(
            {kind: self._output_layers() for kind in BCNET_KINDS if kind != 'amodal'})

    def _output_layers(self) -> nn.Sequential:
        """A deconvolution, ReLU and 1x1 predictor, as FCNMaskHead's ``upsample`` + ``conv_logits``
        (for each output but the amodal mask, which uses those two)."""
        upsample = self.upsample_cfg.copy()
        upsample.update(in_channels=self.conv_out_channels, out_channels=self.conv_out_channels,
                        kernel_size=self.scale_factor, stride=self.scale_factor)
        out_channels = 1 if self.class_agnostic else self.num_classes
        return nn.Sequential(
            build_upsample_layer(upsample), nn.ReLU(inplace=True),
            build_conv_layer(self.predictor_cfg, self.conv_out_channels, out_channels, 1))

    def init_weights(self) -> None:
        """FCNMaskHead's initialisation (Kaiming for the deconvolutions and predictors, theirs
        included); the non-local operators start as the identity (zero-initialised norm)."""
        super().init_weights()
        for layers in self.outputs.values():
            for module in layers:
                if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                    kaiming_init(module, mode='fan_out', nonlinearity='relu', bias=0)

    def _branch(self, x: Tensor, convs: nn.ModuleList, nonlocal_block: Optional[nn.Module]):
        for i, conv in enumerate(convs):
            x = conv(x)
            if nonlocal_block is not None and i + 1 == self.nonlocal_after and len(x):
                x = nonlocal_block(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        """Logits of the four outputs.

        Args:
            x (Tensor): RoI features, (N, in_channels, roi_feat_size, roi_feat_size).

        Returns:
            Tensor: (N, 4 * C, 2 * roi_feat_size, 2 * roi_feat_size) logits, C = 1 if
            ``class_agnostic`` else ``num_classes``, channel groups in the order of
            :data:`BCNET_KINDS`.
        """
        occluder = self._branch(x, self.occluder_convs, self.occluder_nonlocal)
        occludee = self._branch(x + self.occluder_to_input(occluder), self.convs,
                                self.occludee_nonlocal)
        amodal = self.conv_logits(self.relu(self.upsample(occludee)))
        return torch.cat([
            amodal, self.outputs['amodal_boundary'](occludee),
            self.outputs['occluder'](occluder), self.outputs['occluder_boundary'](occluder)
        ], dim=1)

    def logits_of(self, mask_preds: Tensor, kind: str) -> Tensor:
        """The (N, C, h, w) logits of one output (``'amodal'``, ``'occluder_boundary'``, ...)
        out of the output of :meth:`forward`."""
        return mask_preds.chunk(len(BCNET_KINDS), dim=1)[BCNET_KINDS.index(kind)]

    #: The key of an output's loss: ``loss_amodal_mask``, ``loss_amodal_boundary``,
    #: ``loss_occluder_mask``, ``loss_occluder_boundary``.
    loss_name = staticmethod(mask_loss_name)

    def predict_by_feat(self,
                        mask_preds: Tuple[Tensor],
                        results_list: InstanceList,
                        batch_img_metas: List[dict],
                        rcnn_test_cfg: ConfigDict,
                        rescale: bool = False,
                        activate_map: bool = False) -> InstanceList:
        """Paste ``masks`` (amodal), ``visible_masks`` (amodal AND NOT occluder) and
        ``invisible_masks`` (amodal AND occluder) of every image (:func:`paste_masks`).

        On logits, min(a, -o) is the logit of min(p_a, 1 - p_o) and min(a, o) that of
        min(p_a, p_o); with ``activate_map`` (probabilities) the same is computed on them.

        Args:
            mask_preds (tuple[Tensor]): Per image, the output of :meth:`forward`.
            results_list, batch_img_metas, rcnn_test_cfg, rescale, activate_map: As
                :meth:`FCNMaskHead.predict_by_feat`.

        Returns:
            list[:obj:`InstanceData`]: ``results_list`` with the three kinds of (N, H, W) masks.
        """
        per_image = [self.kind_logits(torch.as_tensor(preds), activate_map)
                     for preds in mask_preds]
        kinds = ('amodal', 'visible', 'invisible')
        return paste_masks([(MASK_KIND[kind].field, self.class_agnostic) for kind in kinds],
                           [tuple(logits[kind] for logits in per_image) for kind in kinds],
                           results_list, batch_img_metas, rcnn_test_cfg, rescale, activate_map)

    def kind_logits(self, mask_preds: Tensor, activate_map: bool = False) -> Dict[str, Tensor]:
        """The (N, C, h, w) ``amodal``, ``visible`` (amodal AND NOT occluder) and
        ``invisible`` (amodal AND occluder) logits of the output of :meth:`forward` (with
        ``activate_map``, probabilities of probabilities), as :meth:`predict_by_feat` pastes
        them."""
        a, o = self.logits_of(mask_preds, 'amodal'), self.logits_of(mask_preds, 'occluder')
        not_o = 1 - o if activate_map else -o
        return dict(amodal=a, visible=torch.minimum(a, not_o), invisible=torch.minimum(a, o))
