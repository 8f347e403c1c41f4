"""Inference on images: :class:`AmodalInferencer` (overlays and per-instance amodal, visible and
invisible masks) and :class:`OnnxAmodalInferencer` (the same from an ONNX export, in ONNX
Runtime)."""
from .amodal_inferencer import AmodalInferencer
from .onnx_inferencer import OnnxAmodalDetector, OnnxAmodalInferencer

__all__ = ['AmodalInferencer', 'OnnxAmodalDetector', 'OnnxAmodalInferencer']
