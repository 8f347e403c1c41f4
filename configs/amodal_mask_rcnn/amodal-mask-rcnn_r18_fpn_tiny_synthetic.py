# AmodalMRCNN on the synthetic amodal dataset, small enough for 2 CPU cores (`make demo`).
_base_ = [
    '../_base_/models/amodal-mask-rcnn_r18_fpn_tiny.py',
    '../_base_/datasets/synthetic_amodal.py', '../_base_/default_runtime.py'
]

model = dict(
    roi_head=dict(bbox_head=dict(num_classes=6), mask_head=dict(num_classes=6)))

# Trained from scratch: 900 iterations of batch 4 (4.5 passes over the 800 training images), as
# many as let `make demo` finish within about 10 minutes on a 2-core CPU. AdamW (lr 1e-3) brings
# the from-scratch losses down faster than SGD (lr 0.02, momentum 0.9) on the same seed and data.
max_iters = 900
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[int(max_iters * 0.75), int(max_iters * 0.9)], gamma=0.1)
]

# Same seed, same numbers: two runs on one machine give identical losses and metrics.
randomness = dict(seed=0, deterministic=True)

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
