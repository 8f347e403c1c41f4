from .amodal_coco import AmodalCocoDataset
from .amodal_format import AmodalAnnotationError, AmodalCoco, load_amodal_coco, \
    parse_amodal_annotation
from .transforms import LoadAmodalAnnotations, PackAmodalDetInputs

__all__ = [
    'AmodalAnnotationError', 'AmodalCoco', 'AmodalCocoDataset', 'LoadAmodalAnnotations',
    'PackAmodalDetInputs', 'load_amodal_coco', 'parse_amodal_annotation'
]
