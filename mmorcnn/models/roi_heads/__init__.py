from .amodal_roi_head import AmodalRoIHead
from .mask_heads import AISFormerMaskHead, AmodalMaskHead, BCNetMaskHead, OcclusionMaskHead
from .occlusion_roi_head import OcclusionRoIHead, add_occlusion_order

__all__ = [
    'AISFormerMaskHead', 'AmodalMaskHead', 'AmodalRoIHead', 'BCNetMaskHead', 'OcclusionMaskHead',
    'OcclusionRoIHead', 'add_occlusion_order'
]
