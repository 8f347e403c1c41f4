# AmodalMRCNN-101: the R50 config with a ResNet-101 backbone and the COCO Mask R-CNN R101 weights.
_base_ = './amodal-mask-rcnn_r50_fpn_10k_d2sa.py'

# No backbone init_cfg (inherited None): load_from replaces every weight.
model = dict(backbone=dict(depth=101))
load_from = {{_base_.mask_rcnn_r101_fpn_coco}}
