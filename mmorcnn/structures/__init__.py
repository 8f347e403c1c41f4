from .amodal_masks import AmodalBitmapMasks
from .mask_utils import (MaskFormatError, mask_to_rle, masks_to_rles, rle_and_not, rle_area,
                         rle_complement, rle_intersect, rle_iou, rle_to_bbox, rle_to_mask,
                         segm_to_mask, segm_to_rle)

__all__ = [
    'AmodalBitmapMasks', 'MaskFormatError', 'mask_to_rle', 'masks_to_rles', 'rle_and_not',
    'rle_area', 'rle_complement', 'rle_intersect', 'rle_iou', 'rle_to_bbox', 'rle_to_mask',
    'segm_to_mask', 'segm_to_rle'
]
