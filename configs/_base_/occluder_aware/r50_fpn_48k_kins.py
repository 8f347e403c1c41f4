# AmodalMRCNN-50 on KINS on the Detectron2 schedule that the published configs of AISFormer
# (github.com/UARK-AICV/AISFormer) and of aistron's BCNet (github.com/trqminh/aistron) share:
# 48k iterations of batch 1, SGD lr 0.0025 (momentum 0.9, weight decay 1e-4), x0.1 at 30k and 40k,
# Detectron2's linear warm-up over 1000 iterations; the backbone starts from ImageNet weights; the
# training pipeline loads the occluder targets. The occluder-aware configs add their mask head:
#   _base_ = ['../_base_/occluder_aware/r50_fpn_48k_kins.py', '../_base_/models/<head>_roi_head.py']
_base_ = ['../../amodal_mask_rcnn/amodal-mask-rcnn_r50_fpn_10k_kins.py',
          '../datasets/occluder_targets.py']
model = dict(
    backbone=dict(init_cfg=dict(_delete_=True, type='Pretrained',
                                checkpoint='torchvision://resnet50')))
load_from = None

max_iters = 48000
train_dataloader = dict(batch_size=1, dataset=dict(pipeline={{_base_.occluder_train_pipeline}}))
train_cfg = dict(max_iters=max_iters, val_interval=16000)
optim_wrapper = dict(optimizer=dict(lr=0.0025))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[30000, 40000],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=16000))
# the authors' batch of 1 image; --auto-scale-lr scales lr from it
auto_scale_lr = dict(base_batch_size=1)
