"""Inference on images: :class:`AmodalInferencer` (overlays and per-instance amodal, visible and
invisible masks)."""
from .amodal_inferencer import AmodalInferencer

__all__ = ['AmodalInferencer']
