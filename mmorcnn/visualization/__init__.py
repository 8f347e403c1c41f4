"""Overlays of amodal, visible and invisible masks (registered into mmdet's VISUALIZERS), contact
sheets of overlays, and plots of the amodal evaluation."""
from .amodal_visualizer import (AmodalDetLocalVisualizer, invisible_masks_of, select_instances,
                                unused_visualizer_name)
from .contact_sheet import contact_sheet
from .pr_curves import plot_pr_curves

__all__ = ['AmodalDetLocalVisualizer', 'invisible_masks_of', 'select_instances', 'contact_sheet',
           'plot_pr_curves', 'unused_visualizer_name']
