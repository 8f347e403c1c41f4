"""Targets and losses of mmorcnn's mask heads, one home for every head.

A mask head has one output (ORCNN's amodal, visible and occlusion heads) or several (BCNet's,
AISFormer's), each a *kind* of mask: ``'amodal'``, ``'visible'``, ``'invisible'``,
``'occluder'`` (:data:`~mmorcnn.structures.mask_kinds.MASK_KIND`), or ``'<kind>_boundary'``,
the boundaries of that kind's masks (:func:`mask_boundaries`). Every output learns as
FCNMaskHead's mask does: its targets are its kind's GT masks cropped with the positive RoIs
(mmdet's ``mask_target``), its loss a per-pixel loss of the logits in the channel of the RoI's GT
class (channel 0 when class-agnostic). :class:`MaskLossesMixin` gives a head this, with one loss
module per kind in ``mask_losses``.
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from torch import Tensor, nn

from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures.mask import mask_target
from mmdet.utils import InstanceList, OptConfigType
from mmorcnn.structures.mask_kinds import MASK_KIND

BOUNDARY = '_boundary'
#: The outputs whose loss ``occluder_loss_avg`` selects the RoIs of.
OCCLUDER_KINDS = ('occluder', 'occluder' + BOUNDARY)
#: The choices of ``occluder_loss_avg`` (:func:`occluder_loss_rois`).
OCCLUDER_LOSS_AVG = ('all', 'nonempty', 'nonempty_and_first')


def mask_bce(loss_weight: float) -> dict:
    """Config of a per-pixel sigmoid BCE mask loss (FCNMaskHead's) of weight ``loss_weight``."""
    return dict(type='CrossEntropyLoss', use_mask=True, loss_weight=loss_weight)


def mask_loss_name(kind: str) -> str:
    """The key of the loss of an output of ``kind``: ``loss_<kind>_mask``, or ``loss_<kind>``
    for a boundary kind (``loss_occluder_boundary``)."""
    return f'loss_{kind}' if kind.endswith(BOUNDARY) else f'loss_{kind}_mask'


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


def occluder_loss_rois(occluder_targets: Tensor, mode: str) -> Optional[Tensor]:
    """The positive RoIs (indices into ``occluder_targets``, with repeats) whose mean is an
    occluder loss, by ``occluder_loss_avg``:

    - ``'all'``: every positive RoI (None), an unoccluded object with its all-zero target, as
      every other mask loss;
    - ``'nonempty'``: the RoIs whose occluder target has a pixel, the others being the objects
      nothing hides;
    - ``'nonempty_and_first'``: the loss of the authors' code (``mask_rcnn_loss`` of lkeab/BCNet
      and of UARK-AICV/AISFormer): those K RoIs, then the first K positive RoIs of the batch
      again, whatever their target, a mean over 2K RoIs.

    Args:
        occluder_targets (Tensor): (num_pos, h, w) occluder mask targets.
        mode (str): One of :data:`OCCLUDER_LOSS_AVG`.

    Returns:
        Tensor, optional: Long indices (none selected: empty), or None for every RoI.
    """
    if mode == 'all':
        return None
    nonempty = occluder_targets.flatten(1).any(dim=1).nonzero()[:, 0]
    if mode == 'nonempty':
        return nonempty
    return torch.cat([nonempty, torch.arange(len(nonempty), device=nonempty.device)])


class MaskLossesMixin:
    """Targets and losses of an FCNMaskHead subclass whose outputs are kinds of masks.

    Mixed in before FCNMaskHead (``class Head(MaskLossesMixin, FCNMaskHead)``). The head calls
    :meth:`_init_mask_losses` in its ``__init__`` with the loss config of each kind (``None``
    switches one off) and gives each output's logits by :meth:`logits_of`; its main kind
    (:attr:`main_kind`, the one FCNMaskHead's ``loss_mask`` argument configures) is the amodal
    mask unless the head says otherwise. FCNMaskHead's single ``loss_mask`` module is None: every
    loss, the main kind's included, is a module of ``mask_losses``. The losses of the occluder
    outputs (``'occluder'``, ``'occluder_boundary'``) average over the RoIs that
    ``occluder_loss_avg`` selects (:func:`occluder_loss_rois`), by their occluder mask targets.
    """

    #: The kind whose loss the ``loss_mask`` argument configures.
    main_kind = 'amodal'

    #: Which RoIs the occluder losses average over (:data:`OCCLUDER_LOSS_AVG`).
    occluder_loss_avg = 'all'

    def _init_mask_losses(self, losses: Dict[str, OptConfigType],
                          occluder_loss_avg: str = 'all') -> None:
        """Build ``mask_losses``: ``{kind: loss module}`` of every kind whose config is not None,
        in the order of ``losses`` (the order of the loss keys); set ``occluder_loss_avg``."""
        if occluder_loss_avg not in OCCLUDER_LOSS_AVG:
            raise ValueError(f'{type(self).__name__}: occluder_loss_avg must be one of '
                             f'{OCCLUDER_LOSS_AVG}, got {occluder_loss_avg!r}')
        self.occluder_loss_avg = occluder_loss_avg
        self.loss_mask = None
        self.mask_losses = nn.ModuleDict(
            {kind: MODELS.build(cfg) for kind, cfg in losses.items() if cfg is not None})

    @property
    def with_loss(self) -> bool:
        """bool: Whether any output of the head is trained by a loss of its own."""
        return len(self.mask_losses) > 0

    def loss_arg(self, kind: str) -> str:
        """The argument of the head that configures the loss of ``kind`` (``loss_mask`` for the
        main kind)."""
        return 'loss_mask' if kind == self.main_kind else mask_loss_name(kind)

    def logits_of(self, mask_preds: Tensor, kind: str) -> Tensor:
        """The (N, C, h, w) logits of the output of ``kind`` in the output of ``forward``; a head
        with one output returns ``mask_preds`` itself."""
        return mask_preds

    def get_targets(self,
                    sampling_results: List[SamplingResult],
                    batch_gt_instances: InstanceList,
                    rcnn_train_cfg: ConfigDict,
                    kind: Optional[str] = None) -> Tensor:
        """Targets of one output at the positive RoIs: the GT masks of its kind
        (``gt_instances.<field>``, :data:`~mmorcnn.structures.mask_kinds.MASK_KIND`) cropped with
        the RoIs (mmdet's ``mask_target``), or the :func:`mask_boundaries` of those crops for a
        ``<kind>_boundary`` output.

        Args:
            sampling_results (list[:obj:`SamplingResult`]): Sampled RoIs of every image.
            batch_gt_instances (list[:obj:`InstanceData`]): GT of every image.
            rcnn_train_cfg (:obj:`ConfigDict`): ``train_cfg`` of the R-CNN (``mask_size``).
            kind (str, optional): The output's kind. Defaults to :attr:`main_kind`.

        Returns:
            Tensor: (num_pos, mask_size, mask_size) targets.
        """
        kind = self.main_kind if kind is None else kind
        self._check_gt_field(batch_gt_instances, kind)
        return self._targets_of(kind, {}, sampling_results, batch_gt_instances, rcnn_train_cfg)

    def _targets_of(self, kind: str, crops: Dict[str, Tensor],
                    sampling_results: List[SamplingResult], batch_gt_instances: InstanceList,
                    rcnn_train_cfg: ConfigDict) -> Tensor:
        """:meth:`get_targets` of ``kind``, cropping each GT field once: ``crops`` keeps the
        crops of the fields cropped so far (a mask and its boundary share one)."""
        field = self._field_of(kind)
        if field not in crops:
            crops[field] = mask_target([res.pos_priors for res in sampling_results],
                                       [res.pos_assigned_gt_inds for res in sampling_results],
                                       [gt[field] for gt in batch_gt_instances], rcnn_train_cfg)
        return mask_boundaries(crops[field]) if kind.endswith(BOUNDARY) else crops[field]

    def loss_and_target(self, mask_preds: Tensor, sampling_results: List[SamplingResult],
                        batch_gt_instances: InstanceList, rcnn_train_cfg: ConfigDict) -> dict:
        """The loss of every output that has one, each as FCNMaskHead's mask loss: its loss
        module on its logits in the channel of the RoI's GT class (channel 0 when
        ``class_agnostic``) against its targets, over the positive RoIs (for an occluder output,
        those :func:`occluder_loss_rois` selects); a zero loss with a graph when no RoI is
        positive or selected. The GT fields of every loss are checked before any is computed.

        Returns:
            dict: ``loss_mask``: ``{mask_loss_name(kind): loss}`` per output with a loss;
            ``mask_targets``: ``{kind: (num_pos, h, w) targets}`` of the same outputs.
        """
        for kind in self.mask_losses:
            self._check_gt_field(batch_gt_instances, kind)
        labels = torch.cat([res.pos_gt_labels for res in sampling_results])
        if self.class_agnostic:
            labels = torch.zeros_like(labels)
        losses: Dict[str, Tensor] = {}
        targets: Dict[str, Tensor] = {}
        crops: Dict[str, Tensor] = {}
        occluder_rois = None
        if self.occluder_loss_avg != 'all' and any(k in OCCLUDER_KINDS for k in self.mask_losses):
            occluder = self._targets_of('occluder', crops, sampling_results, batch_gt_instances,
                                        rcnn_train_cfg)
            occluder_rois = occluder_loss_rois(occluder, self.occluder_loss_avg)
        for kind, loss in self.mask_losses.items():
            logits = self.logits_of(mask_preds, kind)
            targets[kind] = self._targets_of(kind, crops, sampling_results, batch_gt_instances,
                                             rcnn_train_cfg)
            rois = occluder_rois if kind in OCCLUDER_KINDS else None
            if logits.size(0) == 0:  # no positive RoI: a zero loss with a graph, as mmdet
                losses[mask_loss_name(kind)] = logits.sum()
            elif rois is None:
                losses[mask_loss_name(kind)] = loss(logits, targets[kind], labels)
            elif len(rois) == 0:  # no RoI selected: zero, with a graph, not the NaN of no mean
                losses[mask_loss_name(kind)] = logits.sum() * 0
            else:
                losses[mask_loss_name(kind)] = loss(logits[rois], targets[kind][rois],
                                                    labels[rois])
        return dict(loss_mask=losses, mask_targets=targets)

    @staticmethod
    def _field_of(kind: str) -> str:
        return MASK_KIND[kind[:-len(BOUNDARY)] if kind.endswith(BOUNDARY) else kind].field

    def _check_gt_field(self, batch_gt_instances: InstanceList, kind: str) -> None:
        field = self._field_of(kind)
        if any(field not in gt for gt in batch_gt_instances):
            how = (' with LoadAmodalAnnotations(with_occluder=True)'
                   if field == MASK_KIND['occluder'].field else '')
            raise KeyError(f'{type(self).__name__}: gt_instances has no {field!r} for its {kind} '
                           f'loss; load them{how} in the training pipeline (or set '
                           f'{self.loss_arg(kind)}=None)')
