"""mmorcnn's model parts (ORCNN, AISFormer), registered into mmdet's MODELS registry on import."""
from .roi_heads import (AISFormerMaskHead, AmodalMaskHead, AmodalRoIHead, OcclusionMaskHead,
                        OcclusionRoIHead)

__all__ = [
    'AISFormerMaskHead', 'AmodalMaskHead', 'AmodalRoIHead', 'OcclusionMaskHead',
    'OcclusionRoIHead'
]
