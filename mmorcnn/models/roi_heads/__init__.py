from .amodal_roi_head import AmodalRoIHead
from .mask_heads import AISFormerMaskHead, AmodalMaskHead, OcclusionMaskHead
from .occlusion_roi_head import OcclusionRoIHead, add_occlusion_order

__all__ = [
    'AISFormerMaskHead', 'AmodalMaskHead', 'AmodalRoIHead', 'OcclusionMaskHead',
    'OcclusionRoIHead', 'add_occlusion_order'
]
