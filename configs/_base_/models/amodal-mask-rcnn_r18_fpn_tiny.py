# A Mask R-CNN small enough to train from scratch on 2 CPU cores in minutes, for the synthetic
# dataset and the tests: a half-width ResNet-18 (32-256 channels), 64-channel FPN, RPN and box
# head, 32-channel mask heads (still four 3x3 convs, deconv, 1x1 predictor), no pretrained weights
# (none can be downloaded offline), BN trained since nothing is pretrained.
# Sized for 192 x 192 images with 2-7 objects: 300 proposals per image (the R50 configs: 1000),
# 64 sampled RoIs per image, RoIAlign with 2 x 2 samples per bin (adaptive sampling costs up to
# 16 on large RoIs, and its backward pass is single-threaded on CPU).
_base_ = './amodal-mask-rcnn_r50_fpn.py'

model = dict(
    backbone=dict(
        depth=18,
        base_channels=32,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64, roi_layer=dict(sampling_ratio=2)),
        bbox_head=dict(in_channels=64, fc_out_channels=256),
        mask_roi_extractor=dict(out_channels=64, roi_layer=dict(sampling_ratio=2)),
        mask_head=dict(in_channels=64, conv_out_channels=32)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=300),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=300),
        rcnn=dict(max_per_img=50)))
