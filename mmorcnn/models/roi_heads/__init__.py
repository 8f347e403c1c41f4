from .mask_heads import AmodalMaskHead, OcclusionMaskHead
from .occlusion_roi_head import OcclusionRoIHead

__all__ = ['AmodalMaskHead', 'OcclusionMaskHead', 'OcclusionRoIHead']
