from .amodal_mask_head import AmodalMaskHead, OcclusionMaskHead

__all__ = ['AmodalMaskHead', 'OcclusionMaskHead']
