"""Pasting predicted masks into the image: the one place where mask logits become image-size masks.

Every mask head of mmorcnn (:class:`~mmorcnn.models.AmodalMaskHead`,
:class:`~mmorcnn.models.OcclusionMaskHead`, :class:`~mmorcnn.models.BCNetMaskHead`,
:class:`~mmorcnn.models.AISFormerMaskHead`) and :class:`~mmorcnn.models.OcclusionRoIHead` paste
through :func:`paste_masks`. Its masks are bit for bit those of mmdet's
:meth:`FCNMaskHead.predict_by_feat <mmdet.models.roi_heads.mask_heads.FCNMaskHead.predict_by_feat>`
for each kind of mask, but every box is pasted once for all its kinds (amodal, visible,
invisible), since an amodal head pastes several masks per detection on the same box:

* on the CPU each box is sampled inside its paste window only (:func:`paste_windows`, the region
  mmdet's ``_do_paste_mask`` writes for that box), the kinds as the channels of one
  ``grid_sample`` call, into masks whose pages are zeroed lazily;
* on a GPU mmdet's ``_do_paste_mask`` samples every kind of a chunk of boxes in one call, the
  chunks sized by mmdet's ``GPU_MEM_LIMIT`` as FCNMaskHead sizes them.

The windows also tell the occlusion order (:func:`~mmorcnn.models.add_occlusion_order`) where a
pasted mask can be non-empty (:func:`mask_paste_windows`).

**Large images.** An image's masks take ``detections x kinds x height x width`` bytes at once: a
6000 x 6000 image with 50 detections and three kinds needs 5.4 GB before a mask is encoded or
drawn. The key ``max_mask_pixels`` of the R-CNN test config (``model.test_cfg.rcnn``, absent or
None: off) bounds that: an image whose detections do not fit into it is pasted a chunk of
:func:`chunk_size` detections at a time, and each chunk is encoded to compressed RLEs at once,
so that memory grows with the image, not with image x detections x kinds. Its mask fields are
then lists of RLEs (as mmdet's encoded results), which the occlusion order,
``AmodalCocoMetric``, the inferencer's JSON and the visualizer read; the masks are the same bit
for bit. Images whose detections fit keep their masks as tensors. :class:`AmodalInferencer
<mmorcnn.apis.AmodalInferencer>` sets the key (its ``max_mask_pixels`` argument).
"""
import mmap
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.roi_heads.mask_heads.fcn_mask_head import (BYTES_PER_FLOAT, GPU_MEM_LIMIT,
                                                             _do_paste_mask)
from mmdet.utils import InstanceList
from mmorcnn.structures.errors import SoftMaskError
from mmorcnn.structures.mask_kinds import MASK_KINDS
from mmorcnn.structures.mask_utils import is_integer, masks_to_rles


def paste_masks_of_heads(heads: Sequence, *args, **kwargs) -> InstanceList:
    """Paste the masks of several heads on the same boxes in one pass: ``results.<mask_field>``.

    :func:`paste_masks` with each head's ``mask_field`` and ``class_agnostic`` as the kinds.

    Args:
        heads (Sequence[AmodalMaskHead]): The heads, each with its ``mask_field`` and
            ``class_agnostic``.
        *args, **kwargs: The other arguments of :func:`paste_masks` (``mask_preds`` per head,
            ``results_list``, ``batch_img_metas``, ``rcnn_test_cfg``, ``rescale``,
            ``activate_map``).

    Returns:
        list[:obj:`InstanceData`]: ``results_list`` with each head's (N, H, W) masks.
    """
    return paste_masks([(head.mask_field, head.class_agnostic) for head in heads], *args,
                       **kwargs)


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
    kinds leaving them untouched), but every box is pasted once for all kinds (module docstring).
    Only the detections' class channels pass the sigmoid.

    Args:
        kinds (Sequence[tuple[str, bool]]): Per kind, its instance field (``masks``,
            ``visible_masks``, ...) and whether its logits are class-agnostic (one channel).
        mask_preds (Sequence[tuple[Tensor]]): Per kind, its logits (n, C, h, w) per image.
        results_list (list[:obj:`InstanceData`]): Detections of every image (``bboxes``,
            ``labels``).
        batch_img_metas (list[dict]): Image meta information (``ori_shape``, ``scale_factor``).
        rcnn_test_cfg (:obj:`ConfigDict`): ``test_cfg`` of the R-CNN: ``mask_thr_binary``, and
            ``max_mask_pixels`` (optional, module docstring: an image whose detections x kinds
            x height x width exceed it gets its masks as lists of compressed RLEs).
        rescale (bool): Paste at the original image size (rescaling the boxes in place when one
            kind is the amodal one), else at the input size. Defaults to False.
        activate_map (bool): The logits are probabilities already. Defaults to False.

    Returns:
        list[:obj:`InstanceData`]: ``results_list`` with each kind's (N, H, W) masks (lists of N
        RLEs for an image pasted in chunks).

    Raises:
        ValueError: ``max_mask_pixels`` is not a positive integer.
        SoftMaskError: ``max_mask_pixels`` with ``mask_thr_binary < 0`` (soft masks, which RLEs
            cannot hold).
    """
    assert all(len(preds) == len(results_list) == len(batch_img_metas) for preds in mask_preds)
    threshold = rcnn_test_cfg.mask_thr_binary
    max_mask_pixels = _max_mask_pixels(rcnn_test_cfg)
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

        shape = (int(img_h), int(img_w))
        chunk = num if max_mask_pixels is None else chunk_size(*shape, max_mask_pixels,
                                                                len(kinds))
        if num <= chunk:
            pasted = _paste_boxes(probs, bboxes, shape, dtype, threshold)
        else:
            pasted = [[] for _ in fields]
            for start in range(0, num, chunk):
                part = _paste_boxes(probs[start:start + chunk], bboxes[start:start + chunk],
                                    shape, dtype, threshold)
                for rles, masks in zip(pasted, part):
                    rles += masks_to_rles(masks.cpu().numpy())
        for field, masks in zip(fields, pasted):
            results[field] = masks
    return results_list


def chunk_size(height: int, width: int, max_mask_pixels: int,
               kinds: int = len(MASK_KINDS)) -> int:
    """Detections pasted at once so that ``detections x kinds x height x width`` stays within
    ``max_mask_pixels`` (at least one). ``kinds`` defaults to the three every instance has."""
    return max(1, int(max_mask_pixels) // max(1, kinds * int(height) * int(width)))


def _max_mask_pixels(rcnn_test_cfg: ConfigDict) -> Optional[int]:
    """``rcnn_test_cfg.max_mask_pixels`` (None when absent), checked before any paste."""
    value = rcnn_test_cfg.get('max_mask_pixels')
    if value is None:
        return None
    if not is_integer(value) or value <= 0:
        raise ValueError(f'test_cfg.rcnn.max_mask_pixels must be a positive integer (mask '
                         f'pixels pasted at once) or None, got {value!r}')
    if rcnn_test_cfg.mask_thr_binary < 0:
        raise SoftMaskError(
            f'test_cfg.rcnn.max_mask_pixels={value} keeps the masks of large images as binary '
            f'RLEs, but mask_thr_binary={rcnn_test_cfg.mask_thr_binary} asks for soft masks; '
            'set mask_thr_binary to a threshold in [0, 1] or max_mask_pixels to None')
    return int(value)


def _paste_boxes(probs: Tensor, bboxes: Tensor, shape: Tuple[int, int], dtype: torch.dtype,
                 threshold: float) -> List[Tensor]:
    """Per kind, the ``(N, H, W)`` masks of ``probs`` ((N, kinds, h, w)) pasted with ``bboxes``
    ((N, 4), in the pixels of ``shape``): on the CPU into their windows
    (:func:`_paste_in_windows`), elsewhere as FCNMaskHead pastes on a GPU, as many boxes at a
    time as fit into ``GPU_MEM_LIMIT``."""
    num, num_kinds = probs.shape[:2]
    img_h, img_w = shape
    device = bboxes.device
    im_masks = [_zero_masks((num, img_h, img_w), dtype, device) for _ in range(num_kinds)]
    if device.type == 'cpu':
        _paste_in_windows(probs, bboxes, im_masks, threshold)
        return im_masks
    per_kind = int(np.ceil(num * img_h * img_w * BYTES_PER_FLOAT / GPU_MEM_LIMIT))
    assert per_kind <= num, 'Default GPU_MEM_LIMIT is too small; try increasing it'
    for inds in torch.chunk(torch.arange(num, device=device), min(num, per_kind * num_kinds)):
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
    return im_masks


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
    entry, channel 0 returned) cannot do. The window keeps the sampling to the pixels the box
    can reach (docs/benchmarks.md measures the paste).

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
    memory). ``torch.zeros`` would write every page of the stack first, and numpy's zeroed
    arrays of this size ask for transparent huge pages, whose first touch can stall for memory
    compaction. Elsewhere ``torch.zeros``.
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
    CPU tensor (on other devices every box is sampled over the whole image; the RLE lists of a
    large image, module docstring, need no windows)."""
    masks = results.masks
    if not isinstance(masks, torch.Tensor) or masks.device.type != 'cpu':
        return None
    return paste_windows(results.bboxes, masks.shape[-2], masks.shape[-1])
