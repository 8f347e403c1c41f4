"""Turn an mmdet Mask R-CNN checkpoint into an ORCNN initialisation (paper 3.1, appendix A).

ORCNN is fine-tuned from a modal Mask R-CNN: its (modal) mask head initialises both the amodal and
the visible mask head, and the class-specific output layers (box classifier, class-specific box
regressor and mask predictors) are re-initialised when the class set differs, as the paper did for
D2S amodal and COCOA. Without ``num_classes`` the class-specific layers stay in the file and
mmengine's loader skips those whose shape differs from the model's.
"""
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

from mmorcnn.utils import setup_checkpoint_loading

SRC_MASK_HEAD = 'roi_head.mask_head.'
VISIBLE_MASK_HEAD = 'roi_head.visible_mask_head.'
FC_CLS = 'roi_head.bbox_head.fc_cls.'
FC_REG = 'roi_head.bbox_head.fc_reg.'
CONV_LOGITS = 'roi_head.mask_head.conv_logits.'


def _out_channels(state_dict: Dict[str, torch.Tensor], prefix: str) -> int:
    return state_dict[prefix + 'weight'].shape[0]


def convert(state_dict: Dict[str, torch.Tensor],
            num_classes: Optional[int] = None,
            class_agnostic_mask: bool = False,
            visible_head: bool = True) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Convert a Mask R-CNN state dict into an ORCNN one.

    Args:
        state_dict (dict): The Mask R-CNN weights (``roi_head.bbox_head`` with ``fc_cls`` and
            ``fc_reg``, ``roi_head.mask_head`` with ``conv_logits``).
        num_classes (int, optional): Class count of the ORCNN model. When it differs from the
            checkpoint's, the class-specific output layers are dropped, so the model keeps its own
            initialisation for them. None keeps them. Defaults to None.
        class_agnostic_mask (bool): The ORCNN model has class-agnostic mask predictors: mask
            predictors with another channel count are dropped. Defaults to False.
        visible_head (bool): Copy the mask head into ``roi_head.visible_mask_head`` too.
            Defaults to True.

    Returns:
        tuple: The ORCNN state dict and the sorted names of the dropped tensors.
    """
    for prefix in (FC_CLS, FC_REG, CONV_LOGITS):
        if prefix + 'weight' not in state_dict:
            raise KeyError(f'{prefix}weight is missing: not a Mask R-CNN checkpoint with a '
                           'StandardRoIHead, a Shared2FCBBoxHead-like box head and an FCNMaskHead')
    if any(key.startswith(VISIBLE_MASK_HEAD) for key in state_dict):
        raise ValueError('the checkpoint already has a visible mask head')
    src_classes = _out_channels(state_dict, FC_CLS) - 1  # + background

    drop = set()
    if num_classes is not None and num_classes != src_classes:
        drop.add(FC_CLS)
        if _out_channels(state_dict, FC_REG) == 4 * src_classes:  # class-specific regressor
            drop.add(FC_REG)
        if _out_channels(state_dict, CONV_LOGITS) == src_classes:  # class-specific masks
            drop.add(CONV_LOGITS)
    if class_agnostic_mask and _out_channels(state_dict, CONV_LOGITS) != 1:
        drop.add(CONV_LOGITS)

    converted, dropped = OrderedDict(), []
    for key, value in state_dict.items():
        if any(key.startswith(prefix) for prefix in drop):
            dropped.append(key)
            continue
        converted[key] = value
    if visible_head:
        copy_mask_head(converted)
    return converted, sorted(dropped)


def copy_mask_head(state_dict: Dict[str, torch.Tensor],
                   src: str = SRC_MASK_HEAD,
                   dst: str = VISIBLE_MASK_HEAD) -> Dict[str, torch.Tensor]:
    """Share one mask head's weights with another: add a copy of every tensor under ``src`` to
    ``state_dict`` under ``dst`` (by default Mask R-CNN's mask head as ORCNN's visible mask
    head, paper 3.1), in place.

    Returns:
        dict: ``state_dict``, for ``model.load_state_dict(copy_mask_head(state_dict))``.
    """
    for key in [key for key in state_dict if key.startswith(src)]:
        state_dict[dst + key[len(src):]] = state_dict[key].clone()
    return state_dict


def convert_checkpoint(src: str, dst: str, num_classes: Optional[int] = None,
                       class_agnostic_mask: bool = False,
                       visible_head: bool = True) -> Tuple[dict, dict, List[str]]:
    """Convert the checkpoint file ``src`` (:func:`convert`) and save the result as ``dst``
    (its folder is created); the file's ``meta`` names the source and the dropped tensors.

    Returns:
        tuple: The source state dict, the converted one and the names of the dropped tensors.
    """
    setup_checkpoint_loading()  # mmengine checkpoints under torch's weights_only loading
    checkpoint = torch.load(src, map_location='cpu', weights_only=True)
    state_dict = checkpoint.get('state_dict', checkpoint)
    converted, dropped = convert(state_dict, num_classes, class_agnostic_mask, visible_head)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save(dict(state_dict=converted, meta=dict(converted_from=src, dropped=dropped)), dst)
    return state_dict, converted, dropped
