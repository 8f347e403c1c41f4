# What ORCNN adds to Mask R-CNN (paper 3.1-3.2), applied to an AmodalMRCNN config by
#   _base_ = ['../amodal_mask_rcnn/<AmodalMRCNN config>.py', '../_base_/models/orcnn_roi_head.py']
#   model = dict(roi_head={{_base_.orcnn_roi_head}})
# so that ORCNN and its AmodalMRCNN baseline differ in nothing else. The visible mask head takes
# the amodal mask head's architecture (channels, num_classes, class_agnostic ...); the occlusion
# mask head has no parameters. Every mask loss is a per-pixel sigmoid BCE of weight 1; a head's
# `loss_mask=None` switches its loss off.
orcnn_roi_head = dict(
    type='OcclusionRoIHead',
    mask_head=dict(type='AmodalMaskHead', mask_type='amodal'),
    visible_mask_head=dict(type='AmodalMaskHead', mask_type='visible'),
    invisible_mask_head=dict(type='OcclusionMaskHead'))

# Paper init (appendix A): the COCO Mask R-CNN of ./mmdet_coco_weights.py with its mask head in
# both mask heads, written once per backbone by
#   python tools/model_converters/mask_rcnn_to_orcnn.py <mask_rcnn_r50_fpn_1x_coco.pth> \
#       checkpoints/orcnn_r50_fpn_coco-init.pth
# Class-specific layers whose shape differs from the dataset's are skipped when loading and
# trained from scratch, as the paper did for D2S amodal and COCOA.
orcnn_r50_fpn_coco_init = 'checkpoints/orcnn_r50_fpn_coco-init.pth'
orcnn_r101_fpn_coco_init = 'checkpoints/orcnn_r101_fpn_coco-init.pth'
