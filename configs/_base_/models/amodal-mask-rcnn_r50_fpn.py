# AmodalMRCNN (paper 4.3): mmdet's Mask R-CNN, unchanged, trained on amodal boxes and amodal
# masks (what LoadAmodalAnnotations puts in gt_bboxes / gt_masks).
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

model = dict(
    train_cfg=dict(
        # appendix A: at most 1000 RoIs per FPN level before RPN NMS, 256 RoIs per image
        rpn_proposal=dict(nms_pre=1000),
        rcnn=dict(sampler=dict(num=256))))
