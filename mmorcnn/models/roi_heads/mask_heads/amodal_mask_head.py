"""The mask heads of ORCNN (paper 3.1): amodal and visible mask heads, and the occlusion mask head.

The amodal and the visible mask head share mmdet's FCNMaskHead architecture (four 3x3 conv + ReLU,
deconv, 1x1 predictor) and differ only in the ground truth they learn from; the occlusion
(invisible) mask head has no layers of its own, its logits are computed from the other two.
All three use FCNMaskHead's target and loss (per-pixel sigmoid BCE, 3.2) unchanged. Their masks
are pasted to image size by :func:`paste_masks`, bit for bit FCNMaskHead's paste of each head, in
one pass over the boxes for all kinds (docs/benchmarks.md: about 3.5 times faster on the CPU than
FCNMaskHead's paste once per head).
"""
import mmap
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.models.roi_heads.mask_heads.fcn_mask_head import (BYTES_PER_FLOAT, GPU_MEM_LIMIT,
                                                             _do_paste_mask)
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures.mask import mask_target
from mmdet.utils import InstanceList, OptConfigType
from mmorcnn.structures.mask_kinds import MASK_KIND


_DEFAULT_LOSS = dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0)


@MODELS.register_module()
class AmodalMaskHead(FCNMaskHead):
    """An FCNMaskHead that learns and predicts one kind of ORCNN mask.

    ORCNN mounts two heads of this class on the same RoIs and RoI features: one with
    ``mask_type='amodal'``, one with ``mask_type='visible'``. The kind selects the ground truth
    field (``gt_instances.masks`` / ``.visible_masks``), the loss name (``loss_amodal_mask`` /
    ``loss_visible_mask``) and the result field (``pred_instances.masks`` / ``.visible_masks``).
    Mask targets are cropped from the positive RoIs, which are amodal boxes in ORCNN (3.2).

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
        # FCNMaskHead always builds a loss; build the default one and drop it when switched off.
        super().__init__(loss_mask=loss_mask if loss_mask is not None else _DEFAULT_LOSS, **kwargs)
        if loss_mask is None:
            self.loss_mask = None
        self.mask_type = mask_type

    @property
    def mask_field(self) -> str:
        """str: The instance field of this head's masks, in the GT and in the results
        (:data:`~mmorcnn.structures.mask_kinds.MASK_KIND`)."""
        return MASK_KIND[self.mask_type].field

    @property
    def loss_name(self) -> str:
        """str: The key of this head's loss, e.g. ``loss_visible_mask``."""
        return f'loss_{self.mask_type}_mask'

    @property
    def with_loss(self) -> bool:
        """bool: Whether this head is trained by its own loss."""
        return self.loss_mask is not None

    def get_targets(self, sampling_results: List[SamplingResult],
                    batch_gt_instances: InstanceList,
                    rcnn_train_cfg: ConfigDict) -> Tensor:
        """Crop this head's GT masks (``gt_instances.<mask_field>``) with the positive RoIs.

        Args:
            sampling_results (list[:obj:`SamplingResult`]): Sampled RoIs of every image.
            batch_gt_instances (list[:obj:`InstanceData`]): GT of every image, holding
                ``self.mask_field``.
            rcnn_train_cfg (:obj:`ConfigDict`): ``train_cfg`` of the R-CNN (``mask_size``).

        Returns:
            Tensor: Mask targets of the positive RoIs, shape (num_pos, mask_size, mask_size).
        """
        return mask_target([res.pos_priors for res in sampling_results],
                           [res.pos_assigned_gt_inds for res in sampling_results],
                           [gt[self.mask_field] for gt in batch_gt_instances], rcnn_train_cfg)

    def loss_and_target(self, mask_preds: Tensor, sampling_results: List[SamplingResult],
                        batch_gt_instances: InstanceList, rcnn_train_cfg: ConfigDict) -> dict:
        """FCNMaskHead's loss under this head's name; no loss when the loss is switched off.

        Returns:
            dict: ``loss_mask``: ``{self.loss_name: loss}`` (empty without a loss) and
            ``mask_targets`` (None without a loss).
        """
        if not self.with_loss:
            return dict(loss_mask=dict(), mask_targets=None)
        results = super().loss_and_target(mask_preds, sampling_results, batch_gt_instances,
                                          rcnn_train_cfg)
        results['loss_mask'] = {self.loss_name: results['loss_mask']['loss_mask']}
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
        same boxes, :func:`paste_masks_of_heads` does it in one pass.

        Args: as :meth:`FCNMaskHead.predict_by_feat`.

        Returns:
            list[:obj:`InstanceData`]: ``results_list`` with ``<mask_field>``, (N, H, W) masks.
        """
        return paste_masks_of_heads([self], [mask_preds], results_list, batch_img_metas,
                                    rcnn_test_cfg, rescale, activate_map)


def mask_bce(loss_weight: float) -> dict:
    """Config of a per-pixel sigmoid BCE mask loss (FCNMaskHead's) of weight ``loss_weight``."""
    return dict(type='CrossEntropyLoss', use_mask=True, loss_weight=loss_weight)


def losses_of_outputs(head: FCNMaskHead, mask_preds: Tensor,
                      sampling_results: List[SamplingResult], batch_gt_instances: InstanceList,
                      rcnn_train_cfg: ConfigDict, labels: Tensor) -> dict:
    """The loss of every output of a mask head with several outputs (AISFormer, BCNet), each as
    FCNMaskHead's mask loss.

    ``head.mask_losses`` maps an output's kind to its loss module; ``head.logits_of(mask_preds,
    kind)`` gives the output's (N, C, h, w) logits, ``head.get_targets(..., kind)`` its
    (num_pos, h, w) targets, ``head.loss_name(kind)`` the key of its loss. A RoI's logits are
    read in the channel of its entry of ``labels``.

    Returns:
        dict: ``loss_mask``: ``{loss_name(kind): loss}`` per output with a loss;
        ``mask_targets``: ``{kind: (num_pos, h, w) targets}``.
    """
    losses: Dict[str, Tensor] = {}
    targets: Dict[str, Tensor] = {}
    for kind, loss in head.mask_losses.items():
        logits = head.logits_of(mask_preds, kind)
        if logits.size(0) == 0:  # no positive RoI: a zero loss with a graph, as mmdet
            losses[head.loss_name(kind)] = logits.sum()
            continue
        targets[kind] = head.get_targets(sampling_results, batch_gt_instances, rcnn_train_cfg,
                                         kind)
        losses[head.loss_name(kind)] = loss(logits, targets[kind], labels)
    return dict(loss_mask=losses, mask_targets=targets)


def paste_masks_of_heads(heads: Sequence[AmodalMaskHead],
                         mask_preds: Sequence[Tuple[Tensor]],
                         results_list: InstanceList,
                         batch_img_metas: List[dict],
                         rcnn_test_cfg: ConfigDict,
                         rescale: bool = False,
                         activate_map: bool = False) -> InstanceList:
    """Paste the masks of several heads on the same boxes in one pass: ``results.<mask_field>``.

    :func:`paste_masks` with each head's ``mask_field`` and ``class_agnostic``.

    Args:
        heads (Sequence[AmodalMaskHead]): The heads, each with its ``mask_field`` and
            ``class_agnostic``.
        mask_preds, results_list, batch_img_metas, rcnn_test_cfg, rescale, activate_map: As
            :func:`paste_masks`.

    Returns:
        list[:obj:`InstanceData`]: ``results_list`` with each head's (N, H, W) masks.
    """
    return paste_masks([(head.mask_field, head.class_agnostic) for head in heads], mask_preds,
                       results_list, batch_img_metas, rcnn_test_cfg, rescale, activate_map)


def paste_masks(kinds: Sequence[Tuple[str, bool]],
                mask_preds: Sequence[Tuple[Tensor]],
                results_list: InstanceList,
                batch_img_metas: List[dict],
                rcnn_test_cfg: ConfigDict,
                rescale: bool = False,
                activate_map: bool = False) -> InstanceList:
    """Paste several kinds of masks on the same boxes in one pass: ``results.<field>``.

    The result is bit for bit what FCNMaskHead's :meth:`~FCNMaskHead.predict_by_feat` gives for
    each kind (the amodal kind, field ``masks``, rescaling ``results.bboxes`` in place, the other
    kinds leaving them untouched), but every box is pasted once for all kinds: on the CPU the
    kinds of a box are sampled together in its window (:func:`_paste_in_windows`), into lazily
    zeroed masks; on a GPU mmdet's ``_do_paste_mask`` samples every kind of a chunk of boxes in
    one call. Only the detections' class channels pass the sigmoid.

    Args:
        kinds (Sequence[tuple[str, bool]]): Per kind, its instance field (``masks``,
            ``visible_masks``, ...) and whether its logits are class-agnostic (one channel).
        mask_preds (Sequence[tuple[Tensor]]): Per kind, its logits (n, C, h, w) per image.
        results_list (list[:obj:`InstanceData`]): Detections of every image (``bboxes``,
            ``labels``).
        batch_img_metas (list[dict]): Image meta information (``ori_shape``, ``scale_factor``).
        rcnn_test_cfg (:obj:`ConfigDict`): ``test_cfg`` of the R-CNN (``mask_thr_binary``).
        rescale (bool): Paste at the original image size (rescaling the boxes in place when one
            kind is the amodal one), else at the input size. Defaults to False.
        activate_map (bool): The logits are probabilities already. Defaults to False.

    Returns:
        list[:obj:`InstanceData`]: ``results_list`` with each kind's (N, H, W) masks.
    """
    assert all(len(preds) == len(results_list) == len(batch_img_metas) for preds in mask_preds)
    threshold = rcnn_test_cfg.mask_thr_binary
    dtype = torch.bool if threshold >= 0 else torch.uint8
    fields = [field for field, _ in kinds]
    for img_id, (img_meta, results) in enumerate(zip(batch_img_metas, results_list)):
        bboxes, labels = results.bboxes, results.labels
        device, num = bboxes.device, bboxes.shape[0]
        img_h, img_w = img_meta['ori_shape'][:2]
        if num == 0:  # as mmdet's empty_instances: (0, H, W) at the original size
            for field in fields:
                results[field] = torch.zeros(0, img_h, img_w, device=device, dtype=dtype)
            continue
        probs = []
        for (_, class_agnostic), preds in zip(kinds, mask_preds):
            kind = bboxes.new_tensor(preds[img_id]) if activate_map else preds[img_id]
            if not class_agnostic:
                kind = kind[range(num), labels][:, None]
            # the sigmoid of the detections' channels only: the same values as FCNMaskHead's
            # sigmoid of every channel, then the selection
            probs.append(kind if activate_map else kind.sigmoid())
        probs = torch.cat(probs, dim=1)  # (N, kinds, h, w)
        num_kinds = probs.shape[1]

        scale_factor = bboxes.new_tensor(img_meta['scale_factor']).repeat((1, 2))
        if rescale:
            if 'masks' in fields:
                bboxes /= scale_factor  # in place, as FCNMaskHead does
            else:
                bboxes = bboxes / scale_factor
        else:
            w_scale, h_scale = scale_factor[0, 0], scale_factor[0, 1]
            img_h = np.round(img_h * h_scale.item()).astype(np.int32)
            img_w = np.round(img_w * w_scale.item()).astype(np.int32)

        im_masks = [_zero_masks((num, int(img_h), int(img_w)), dtype, device) for _ in fields]
        if device.type == 'cpu':
            _paste_in_windows(probs, bboxes, im_masks, threshold)
        else:  # as FCNMaskHead on a GPU: as many boxes at a time as fit into memory
            per_kind = int(np.ceil(num * int(img_h) * int(img_w) * BYTES_PER_FLOAT /
                                   GPU_MEM_LIMIT))
            assert per_kind <= num, 'Default GPU_MEM_LIMIT is too small; try increasing it'
            for inds in torch.chunk(torch.arange(num, device=device),
                                    min(num, per_kind * num_kinds)):
                # every kind of a box is one "mask" of _do_paste_mask, pasted with that box
                masks_chunk, spatial_inds = _do_paste_mask(
                    probs[inds].flatten(0, 1)[:, None],
                    bboxes[inds].repeat_interleave(num_kinds, dim=0),
                    img_h,
                    img_w,
                    skip_empty=False)
                masks_chunk = _binarize(masks_chunk, threshold)
                masks_chunk = masks_chunk.unflatten(0, (len(inds), num_kinds))
                for kind, im_mask in enumerate(im_masks):
                    im_mask[(inds, ) + spatial_inds] = masks_chunk[:, kind]
        for field, im_mask in zip(fields, im_masks):
            results[field] = im_mask
    return results_list


def _binarize(probs: Tensor, threshold: float) -> Tensor:
    """Pasted probabilities as FCNMaskHead gives them: bool masks, or uint8 0-255 maps for a
    negative threshold (for visualization and debugging)."""
    if threshold >= 0:
        return probs >= threshold
    return (probs * 255).to(dtype=torch.uint8)


def _paste_in_windows(probs: Tensor, bboxes: Tensor, im_masks: List[Tensor],
                      threshold: float) -> None:
    """The paste on the CPU: one box at a time, into its :func:`paste_windows` window, the
    masks of all its kinds sampled in one ``grid_sample`` call as the channels of one input.

    The grid is that of mmdet's ``_do_paste_mask`` for one box (pixel centres mapped into the
    box, infinite coordinates of an empty box set to 0), so each kind's masks are bit for bit
    those FCNMaskHead pastes; sampling the kinds as channels computes each grid point's
    interpolation weights once for all kinds, which ``_do_paste_mask`` (one mask per batch
    entry, channel 0 returned) cannot do (docs/benchmarks.md: the paste of three kinds costs
    about what mmdet's paste of one does).

    Args:
        probs (Tensor): (N, kinds, h, w) probabilities.
        bboxes (Tensor): (N, 4) boxes in the pixels of ``im_masks``.
        im_masks (list[Tensor]): Per kind, the (N, H, W) zero masks to paste into, in place.
        threshold (float): ``mask_thr_binary``.
    """
    targets = [im_mask.numpy() for im_mask in im_masks]
    windows = paste_windows(bboxes, targets[0].shape[1], targets[0].shape[2])
    probs = probs.to(dtype=torch.float32)
    for i, (y0, y1, x0, x1) in enumerate(windows.tolist()):
        if y1 <= y0 or x1 <= x0:
            continue
        box_x0, box_y0, box_x1, box_y1 = torch.split(bboxes[i:i + 1], 1, dim=1)
        img_y = torch.arange(y0, y1).to(torch.float32) + 0.5
        img_x = torch.arange(x0, x1).to(torch.float32) + 0.5
        img_y = (img_y - box_y0) / (box_y1 - box_y0) * 2 - 1
        img_x = (img_x - box_x0) / (box_x1 - box_x0) * 2 - 1
        img_y[torch.isinf(img_y)] = 0
        img_x[torch.isinf(img_x)] = 0
        grid = torch.stack([img_x[:, None, :].expand(1, y1 - y0, x1 - x0),
                            img_y[:, :, None].expand(1, y1 - y0, x1 - x0)], dim=3)
        pasted = _binarize(F.grid_sample(probs[i:i + 1], grid, align_corners=False)[0],
                           threshold)
        for kind, target in enumerate(targets):  # a plain copy of the window, one thread
            target[i, y0:y1, x0:x1] = pasted[kind].numpy()


def _zero_masks(shape: Tuple[int, int, int], dtype: torch.dtype, device: torch.device) -> Tensor:
    """All-zero masks to paste into.

    On the CPU an anonymous memory map, whose pages the system zeroes on first use, so the
    pages that no box is pasted into cost nothing until read (and reading them costs no
    memory); ``torch.zeros`` writes every page first (about 36 ms for a 100 x 800 x 1088 stack
    on a 2-core CPU), and numpy's zeroed arrays of this size ask for transparent huge pages,
    whose first touch can stall for memory compaction (seen up to 1.2 s). Elsewhere
    ``torch.zeros``.
    """
    if device.type != 'cpu':
        return torch.zeros(shape, dtype=dtype, device=device)
    num_bytes = int(np.prod(shape)) * torch.empty((), dtype=dtype).element_size()
    if num_bytes == 0:
        return torch.zeros(shape, dtype=dtype)
    # the tensor keeps the map alive; the map is unmapped when the tensor is freed
    return torch.frombuffer(mmap.mmap(-1, num_bytes), dtype=dtype).view(shape)


def paste_windows(bboxes: Tensor, img_h: int, img_w: int) -> np.ndarray:
    """``(N, 4)`` int64 ``[y0, y1, x0, x1)``: the window of the image that each box's masks are
    pasted into on the CPU, outside which they are empty.

    It is the region of mmdet's ``_do_paste_mask`` with ``skip_empty`` for that box alone (from
    the floor of its top left corner minus one to the ceiling of its bottom right corner plus
    one, clipped to the image), which :func:`paste_masks` uses one box at a time on the CPU.
    """
    boxes = bboxes.detach().to('cpu', torch.float32).reshape(-1, 4)
    x0, y0 = torch.clamp(boxes[:, :2].floor() - 1, min=0).to(torch.int64).unbind(1)
    x1 = torch.clamp(boxes[:, 2].ceil() + 1, max=int(img_w)).to(torch.int64)
    y1 = torch.clamp(boxes[:, 3].ceil() + 1, max=int(img_h)).to(torch.int64)
    windows = np.zeros((len(boxes), 4), np.int64)
    for i, (a, b, c, d) in enumerate(zip(y0.tolist(), y1.tolist(), x0.tolist(), x1.tolist())):
        # the rows and columns that numpy's slices [a:b, c:d] of the paste address
        (a, b, _), (c, d, _) = slice(a, b).indices(int(img_h)), slice(c, d).indices(int(img_w))
        windows[i] = a, max(a, b), c, max(c, d)
    return windows


def mask_paste_windows(results: InstanceData) -> Optional[np.ndarray]:
    """The :func:`paste_windows` of detections whose ``masks`` :func:`paste_masks` pasted
    (``results.bboxes`` are then the boxes it pasted with), or None where the masks are not a
    CPU tensor (on other devices every box is sampled over the whole image; compressed RLEs, as
    the inferencer keeps the masks of large images, need no windows)."""
    masks = results.masks
    if not isinstance(masks, torch.Tensor) or masks.device.type != 'cpu':
        return None
    return paste_windows(results.bboxes, masks.shape[-2], masks.shape[-1])


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
