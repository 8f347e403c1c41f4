# AmodalMRCNN-50 on KINS (paper 4.3): Mask R-CNN trained on amodal boxes and masks, paper schedule.
_base_ = [
    '../_base_/models/amodal-mask-rcnn_r50_fpn.py', '../_base_/datasets/kins.py',
    '../_base_/schedules/schedule_10k.py', '../_base_/default_runtime.py',
    '../_base_/models/mmdet_coco_weights.py'
]

model = dict(
    backbone=dict(init_cfg=None),  # load_from replaces every weight: no ImageNet download
    roi_head=dict(bbox_head=dict(num_classes=7), mask_head=dict(num_classes=7)))
load_from = {{_base_.mask_rcnn_r50_fpn_coco}}
