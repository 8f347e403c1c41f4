from .amodal_coco import AmodalCocoDataset, EmptyDatasetError
from .amodal_format import AmodalAnnotationError, AmodalCoco, load_amodal_coco, \
    parse_amodal_annotation
from .image_check import ImageReadError, image_problem, unreadable_images
from .transforms import LoadAmodalAnnotations, LoadNamedImageFromFile, PackAmodalDetInputs

__all__ = [
    'AmodalAnnotationError', 'AmodalCoco', 'AmodalCocoDataset', 'EmptyDatasetError',
    'ImageReadError', 'LoadAmodalAnnotations', 'LoadNamedImageFromFile', 'PackAmodalDetInputs',
    'image_problem', 'load_amodal_coco', 'parse_amodal_annotation', 'unreadable_images'
]
