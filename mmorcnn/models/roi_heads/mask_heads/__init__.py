from .aisformer_mask_head import AISFORMER_KINDS, AISFormerMaskHead
from .amodal_mask_head import (AmodalMaskHead, OcclusionMaskHead, paste_masks,
                               paste_masks_of_heads)

__all__ = [
    'AISFORMER_KINDS', 'AISFormerMaskHead', 'AmodalMaskHead', 'OcclusionMaskHead', 'paste_masks',
    'paste_masks_of_heads'
]
