from .amodal_mask_head import AmodalMaskHead, OcclusionMaskHead, paste_masks_of_heads

__all__ = ['AmodalMaskHead', 'OcclusionMaskHead', 'paste_masks_of_heads']
