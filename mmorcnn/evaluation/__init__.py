from .functional import AmodalDetections, amodal_metric_keys, evaluate_amodal
from .metrics import AmodalCocoMetric

__all__ = ['AmodalCocoMetric', 'AmodalDetections', 'amodal_metric_keys', 'evaluate_amodal']
