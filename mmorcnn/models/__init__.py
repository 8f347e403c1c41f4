"""mmorcnn's model parts (ORCNN, BCNet, AISFormer), registered into mmdet's MODELS registry on
import."""
from .roi_heads import (AISFormerMaskHead, AmodalMaskHead, AmodalRoIHead, BCNetMaskHead,
                        OcclusionMaskHead, OcclusionRoIHead)

__all__ = [
    'AISFormerMaskHead', 'AmodalMaskHead', 'AmodalRoIHead', 'BCNetMaskHead', 'OcclusionMaskHead',
    'OcclusionRoIHead'
]
