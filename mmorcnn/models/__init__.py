"""mmorcnn's model parts (ORCNN, BCNet, AISFormer), registered into mmdet's MODELS registry on
import."""
from .layers import MultiheadAttentionWithoutWeights
from .roi_heads import (AISFormerMaskHead, AmodalMaskHead, AmodalRoIHead, BCNetMaskHead,
                        OcclusionMaskHead, OcclusionRoIHead)

__all__ = [
    'AISFormerMaskHead', 'AmodalMaskHead', 'AmodalRoIHead', 'BCNetMaskHead',
    'MultiheadAttentionWithoutWeights', 'OcclusionMaskHead', 'OcclusionRoIHead'
]
