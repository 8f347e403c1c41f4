from .amodal_masks import AmodalBitmapMasks
from .errors import (AmodalAnnotationError, AmodalError, AmodalResultsError,
                     CheckpointConversionError, CheckpointKeysError, ClassMappingError,
                     ExportError, FileItemError, FormatError, ImageChannelError, MaskFormatError,
                     OnnxModelError, PreprocessingMismatchError, SoftMaskError,
                     exit_on_bad_input)
from .mask_kinds import MASK_KIND, MASK_KINDS, OCCLUDER_KIND, MaskKind
from .mask_utils import (binary_masks, bbox_to_rle, check_rle, empty_rle, mask_to_rle,
                         masks_to_rles, rle_and_not, rle_area, rle_complement, rle_intersect, rle_iou, rle_to_bbox, rle_to_mask,
                         segm_to_mask, segm_to_rle, to_json_rle)
from .occlusion_order import (OcclusionGraph, depth_from_occluders, occluder_ids,
                              occluders_from_overlaps, occlusion_graph,
                              occlusion_graph_from_overlaps, occlusion_overlaps,
                              rle_occlusion_overlaps)

__all__ = [
    'AmodalError', 'AmodalAnnotationError', 'AmodalResultsError', 'CheckpointConversionError',
    'CheckpointKeysError', 'ClassMappingError', 'ExportError', 'FileItemError',
    'ImageChannelError', 'OnnxModelError', 'PreprocessingMismatchError', 'exit_on_bad_input',
    'MASK_KIND', 'MASK_KINDS', 'OCCLUDER_KIND', 'MaskKind',
    'AmodalBitmapMasks', 'FormatError', 'MaskFormatError', 'SoftMaskError', 'binary_masks',
    'bbox_to_rle', 'check_rle', 'empty_rle', 'mask_to_rle', 'masks_to_rles', 'rle_and_not',
    'rle_area', 'rle_complement', 'rle_intersect', 'rle_iou', 'rle_to_bbox', 'rle_to_mask',
    'segm_to_mask', 'segm_to_rle', 'to_json_rle', 'OcclusionGraph', 'depth_from_occluders',
    'occluder_ids', 'occluders_from_overlaps', 'occlusion_graph', 'occlusion_graph_from_overlaps',
    'occlusion_overlaps', 'rle_occlusion_overlaps'
]
