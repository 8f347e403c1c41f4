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
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, NonLocal2d, build_conv_layer, build_upsample_layer
from mmengine.config import ConfigDict
from mmengine.model.weight_init import kaiming_init
from torch import Tensor, nn

from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures.mask import mask_target
from mmdet.utils import InstanceList, OptConfigType
from mmorcnn.models.mask_paste import paste_masks
from mmorcnn.structures.mask_kinds import MASK_KIND
from .amodal_mask_head import losses_of_outputs, mask_bce

#: The outputs of the head, in the order of its output channel groups.
BCNET_KINDS = ('amodal', 'amodal_boundary', 'occluder', 'occluder_boundary')


def mask_boundaries(masks: Tensor) -> Tensor:
    """Boundaries of ``(N, h, w)`` binary mask targets: the pixels where the mask dilated by one
    pixel differs from the mask eroded by one pixel (4-neighbourhood), i.e. a 2-pixel contour,
    one pixel outside and one inside, as BCNet's boundary targets.

    Outside the RoI counts as background for the dilation and as foreground for the erosion: a
    mask that reaches the RoI's edge continues beyond it and has no boundary along that edge.
    """
    masks = masks.float()[:, None]

    def dilate(m: Tensor, outside: float) -> Tensor:
        padded = F.pad(m, (1, 1, 1, 1), value=outside)
        neighbours = torch.stack([
            padded[..., 1:-1, 1:-1], padded[..., :-2, 1:-1], padded[..., 2:, 1:-1],
            padded[..., 1:-1, :-2], padded[..., 1:-1, 2:]
        ])
        return neighbours.amax(dim=0)

    outer = dilate(masks, 0.)
    inner = 1. - dilate(1. - masks, 0.)  # erosion, the outside being foreground
    return (outer - inner)[:, 0]


@MODELS.register_module()
class BCNetMaskHead(FCNMaskHead):
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
            per-pixel sigmoid BCE with the weights of the authors' code: amodal boundary 0.5,
            occluder mask 0.25, occluder boundary 0.5.
        **kwargs: The arguments of :class:`FCNMaskHead` (``roi_feat_size``, ``in_channels``,
            ``conv_out_channels``, ``num_classes``, ``class_agnostic``, ``conv_cfg``,
            ``norm_cfg``, ``init_cfg``, ...); ``upsample_cfg`` must be a deconvolution.
    """

    def __init__(self,
                 num_convs: int = 4,
                 nonlocal_after: Optional[int] = 2,
                 loss_mask: OptConfigType = mask_bce(1.0),
                 loss_amodal_boundary: OptConfigType = mask_bce(0.5),
                 loss_occluder_mask: OptConfigType = mask_bce(0.25),
                 loss_occluder_boundary: OptConfigType = mask_bce(0.5),
                 **kwargs) -> None:
        super().__init__(num_convs=num_convs,
                         loss_mask=loss_mask if loss_mask is not None else mask_bce(1.0), **kwargs)
        if self.upsample_method != 'deconv':
            raise ValueError(f"BCNetMaskHead upsamples with a deconvolution, got upsample_cfg "
                             f"type {self.upsample_method!r}")
        if nonlocal_after is not None and not 1 <= nonlocal_after <= num_convs:
            raise ValueError(f'nonlocal_after must be in [1, num_convs={num_convs}] or None, '
                             f'got {nonlocal_after}')
        self.nonlocal_after = nonlocal_after
        self.loss_mask = None  # the losses of every output, the amodal mask's included, follow
        losses = dict(amodal=loss_mask, amodal_boundary=loss_amodal_boundary,
                      occluder=loss_occluder_mask, occluder_boundary=loss_occluder_boundary)
        self.mask_losses = nn.ModuleDict(
            {kind: MODELS.build(cfg) for kind, cfg in losses.items() if cfg is not None})

        channels = self.conv_out_channels
        padding = (self.conv_kernel_size - 1) // 2
        self.occluder_convs = nn.ModuleList([
            ConvModule(self.in_channels if i == 0 else channels, channels,
                       self.conv_kernel_size, padding=padding, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg) for i in range(num_convs)
        ])
        # The paper's graph convolution: a non-local operator (softmax of scaled dot products
        # between the RoI's pixels), its output normalised by a BatchNorm that starts at zero.
        def nonlocal_block() -> Optional[nn.Module]:
            if nonlocal_after is None:
                return None
            return NonLocal2d(channels, reduction=1, use_scale=True,
                              norm_cfg=dict(type='BN'), mode='embedded_gaussian')

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

    def get_targets(self,
                    sampling_results: List[SamplingResult],
                    batch_gt_instances: InstanceList,
                    rcnn_train_cfg: ConfigDict,
                    kind: str = 'amodal') -> Tensor:
        """Targets of one output at the positive RoIs: the GT masks of the kind
        (``gt_instances.masks`` or ``.occluder_masks``) cropped with the RoIs, or the
        :func:`mask_boundaries` of those crops for a ``*_boundary`` output.

        Returns:
            Tensor: (num_pos, mask_size, mask_size) targets.
        """
        mask_kind = kind.replace('_boundary', '')
        field = MASK_KIND[mask_kind].field
        for gt in batch_gt_instances:
            if field not in gt:
                raise KeyError(
                    f'BCNetMaskHead: gt_instances has no {field!r} for its {kind} loss; load '
                    'them with LoadAmodalAnnotations(with_occluder=True) in the training '
                    f'pipeline (or set loss_{kind}{"" if "boundary" in kind else "_mask"}=None)')
        targets = mask_target([res.pos_priors for res in sampling_results],
                              [res.pos_assigned_gt_inds for res in sampling_results],
                              [gt[field] for gt in batch_gt_instances], rcnn_train_cfg)
        return mask_boundaries(targets) if kind.endswith('_boundary') else targets

    @staticmethod
    def loss_name(kind: str) -> str:
        """The key of an output's loss: ``loss_amodal_mask``, ``loss_amodal_boundary``,
        ``loss_occluder_mask``, ``loss_occluder_boundary``."""
        return f'loss_{kind}' if kind.endswith('_boundary') else f'loss_{kind}_mask'

    def loss_and_target(self, mask_preds: Tensor, sampling_results: List[SamplingResult],
                        batch_gt_instances: InstanceList, rcnn_train_cfg: ConfigDict) -> dict:
        """The loss of every output that has one, each as FCNMaskHead's mask loss (a RoI's
        logits in the channel of its GT class unless ``class_agnostic``).

        Returns:
            dict: ``loss_mask``: ``{loss_name(kind): loss}`` per output with a loss;
            ``mask_targets``: ``{kind: (num_pos, h, w) targets}``.
        """
        labels = torch.cat([res.pos_gt_labels for res in sampling_results])
        if self.class_agnostic:
            labels = torch.zeros_like(labels)
        return losses_of_outputs(self, mask_preds, sampling_results, batch_gt_instances,
                                 rcnn_train_cfg, labels)

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
        amodal, visible, invisible = [], [], []
        for preds in mask_preds:
            preds = torch.as_tensor(preds)
            a, o = self.logits_of(preds, 'amodal'), self.logits_of(preds, 'occluder')
            not_o = 1 - o if activate_map else -o
            amodal.append(a)
            visible.append(torch.minimum(a, not_o))
            invisible.append(torch.minimum(a, o))
        kinds = [(MASK_KIND[kind].field, self.class_agnostic)
                 for kind in ('amodal', 'visible', 'invisible')]
        return paste_masks(kinds, [tuple(amodal), tuple(visible), tuple(invisible)],
                           results_list, batch_img_metas, rcnn_test_cfg, rescale, activate_map)
