# AmodalMRCNN on the synthetic amodal dataset, small enough for 2 CPU cores (`make demo`).
_base_ = [
    '../_base_/models/amodal-mask-rcnn_r18_fpn_tiny.py',
    '../_base_/datasets/synthetic_amodal.py', '../_base_/default_runtime.py'
]

model = dict(
    roi_head=dict(bbox_head=dict(num_classes=6), mask_head=dict(num_classes=6)))

max_iters = 400
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[int(max_iters * 0.75), int(max_iters * 0.9)], gamma=0.1)
]

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
