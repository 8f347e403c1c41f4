# A Mask R-CNN small enough to train from scratch on 2 CPU cores in minutes, for the synthetic
# dataset and the tests: ResNet-18, 64-channel FPN and heads, no pretrained weights (none can be
# downloaded offline), BN trained since nothing is pretrained.
_base_ = './amodal-mask-rcnn_r50_fpn.py'

model = dict(
    backbone=dict(
        depth=18,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64)),
    train_cfg=dict(rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rcnn=dict(max_per_img=50)))
