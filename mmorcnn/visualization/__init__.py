"""Overlays of amodal, visible and invisible masks, registered into mmdet's VISUALIZERS."""
from .amodal_visualizer import AmodalDetLocalVisualizer, invisible_masks_of

__all__ = ['AmodalDetLocalVisualizer', 'invisible_masks_of']
