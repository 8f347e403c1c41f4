"""ORCNN's model parts, registered into mmdet's MODELS registry on import."""
from .roi_heads import AmodalMaskHead, OcclusionMaskHead, OcclusionRoIHead

__all__ = ['AmodalMaskHead', 'OcclusionMaskHead', 'OcclusionRoIHead']
