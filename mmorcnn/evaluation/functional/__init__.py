from .amodal_eval import (IOU_THRS, IV_IOU_THR, OCCLUSION_LEVELS, PARTIAL_MAX, REC_THRS,
                          REMOVE_IOU_THR, SIZE_BINS, VISIBLE_FRACTION_BINS, AmodalEvalResult,
                          amodal_metric_keys, detection_coverage, evaluate_amodal,
                          log_detection_coverage)
from .amodal_results import AmodalDetections, AmodalResultsError, load_amodal_results
from .coco_matching import MatchRows, accumulate_precision_recall, match_detections
from .occlusion_order_eval import ORDER_KEYS, evaluate_occlusion_order
from .pr_arrays import load_pr_arrays, save_pr_arrays

__all__ = [
    'IOU_THRS', 'IV_IOU_THR', 'OCCLUSION_LEVELS', 'PARTIAL_MAX', 'REC_THRS', 'REMOVE_IOU_THR',
    'SIZE_BINS', 'VISIBLE_FRACTION_BINS',
    'AmodalDetections', 'AmodalEvalResult', 'AmodalResultsError', 'MatchRows',
    'accumulate_precision_recall', 'amodal_metric_keys', 'detection_coverage',
    'evaluate_amodal', 'log_detection_coverage', 'load_amodal_results', 'match_detections',
    'ORDER_KEYS', 'evaluate_occlusion_order', 'load_pr_arrays', 'save_pr_arrays'
]
