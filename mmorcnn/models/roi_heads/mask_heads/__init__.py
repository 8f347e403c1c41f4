from .aisformer_mask_head import AISFORMER_KINDS, AISFormerMaskHead
from .amodal_mask_head import (AmodalMaskHead, OcclusionMaskHead, paste_masks,
                               paste_masks_of_heads)
from .bcnet_mask_head import BCNET_KINDS, BCNetMaskHead, mask_boundaries

__all__ = [
    'AISFORMER_KINDS', 'AISFormerMaskHead', 'AmodalMaskHead', 'BCNET_KINDS', 'BCNetMaskHead',
    'OcclusionMaskHead', 'mask_boundaries', 'paste_masks', 'paste_masks_of_heads'
]
