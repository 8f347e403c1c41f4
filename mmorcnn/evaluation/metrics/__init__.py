from .amodal_coco_metric import AmodalCocoMetric

__all__ = ['AmodalCocoMetric']
