from .mask_utils import (MaskFormatError, mask_to_rle, masks_to_rles, rle_and_not, rle_area,
                         rle_iou, rle_to_bbox, rle_to_mask, segm_to_mask, segm_to_rle)

__all__ = [
    'MaskFormatError', 'mask_to_rle', 'masks_to_rles', 'rle_and_not', 'rle_area', 'rle_iou',
    'rle_to_bbox', 'rle_to_mask', 'segm_to_mask', 'segm_to_rle'
]
