# AmodalMRCNN-50 on D2S amodal (paper 4.3): Mask R-CNN trained on amodal boxes and masks, paper schedule.
_base_ = [
    '../_base_/models/amodal-mask-rcnn_r50_fpn.py', '../_base_/datasets/d2sa.py',
    '../_base_/schedules/schedule_10k.py', '../_base_/default_runtime.py',
    '../_base_/models/mmdet_coco_weights.py'
]

model = dict(
    backbone=dict(init_cfg=None),  # load_from replaces every weight: no ImageNet download
    roi_head=dict(bbox_head=dict(num_classes=60), mask_head=dict(num_classes=60)))
load_from = {{_base_.mask_rcnn_r50_fpn_coco}}
# Appendix A: one image per GPU on 2 GPUs, so --auto-scale-lr scales from a batch of 2.
auto_scale_lr = dict(base_batch_size=2)
