"""The tests' reference paste: mmdet's own, one head at a time.

Each head's masks are what mmdet's ``FCNMaskHead.predict_by_feat`` pastes for it on a copy of
the detections; the boxes are those the amodal head leaves (FCNMaskHead rescales the boxes it
pastes with in place, so with ``rescale`` they end at the original image size).
"""
import copy
from typing import List, Sequence

from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmengine.structures import InstanceData


def paste_each_head(heads: Sequence, mask_preds: Sequence, results_list: List[InstanceData],
                    img_metas: List[dict], cfg, rescale: bool = False) -> List[InstanceData]:
    """``results_list`` with ``<mask_field>`` of each head as mmdet pastes it."""
    pasted = [FCNMaskHead.predict_by_feat(head, preds, copy.deepcopy(results_list), img_metas,
                                          cfg, rescale) for head, preds in zip(heads, mask_preds)]
    for head, by_image in zip(heads, pasted):
        for results, mmdet_results in zip(results_list, by_image):
            results[head.mask_field] = mmdet_results.masks
            if head.mask_field == 'masks':
                results.bboxes = mmdet_results.bboxes
    return results_list
