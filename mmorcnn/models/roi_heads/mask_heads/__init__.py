from .aisformer_mask_head import AISFORMER_KINDS, AISFormerMaskHead
from .amodal_mask_head import (AmodalMaskHead, OcclusionMaskHead, mask_paste_windows,
                               paste_masks, paste_masks_of_heads, paste_windows)
from .bcnet_mask_head import BCNET_KINDS, BCNetMaskHead, mask_boundaries

__all__ = [
    'AISFORMER_KINDS', 'AISFormerMaskHead', 'AmodalMaskHead', 'BCNET_KINDS', 'BCNetMaskHead',
    'OcclusionMaskHead', 'mask_boundaries', 'mask_paste_windows', 'paste_masks',
    'paste_masks_of_heads', 'paste_windows'
]
