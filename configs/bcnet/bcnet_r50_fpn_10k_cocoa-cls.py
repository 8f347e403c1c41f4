# BCNet, R50-FPN, COCOA cls: AmodalMRCNN-50 with BCNet's bilayer mask head, on the schedule of
# aistron's BCNet COCOA cls config (github.com/trqminh/aistron, projects/BCNet/configs/COCOA-cls):
# 10k iterations of batch 2, SGD lr 0.0005 (momentum 0.9, weight decay 1e-4), x0.1 at 5k and 8k,
# Detectron2's linear warm-up over 1000 iterations. As there, the model starts from a COCO Mask
# R-CNN (mmdet's R50 one, the AmodalMRCNN config's `load_from`): its mask head initialises the
# occludee branch's convolutions, deconvolution and amodal predictor, which have the names of
# FCNMaskHead's; the occluder branch and the boundary outputs start from their initialisation.
_base_ = ['../amodal_mask_rcnn/amodal-mask-rcnn_r50_fpn_10k_cocoa-cls.py',
          '../_base_/models/bcnet_roi_head.py', '../_base_/datasets/occluder_targets.py']
model = dict(roi_head={{_base_.bcnet_roi_head}})

max_iters = 10000
train_dataloader = dict(batch_size=2, dataset=dict(pipeline={{_base_.occluder_train_pipeline}}))
train_cfg = dict(max_iters=max_iters, val_interval=5000)
optim_wrapper = dict(optimizer=dict(lr=0.0005))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[5000, 8000],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=5000))
# the authors' batch of 2 images; --auto-scale-lr scales lr from it
auto_scale_lr = dict(base_batch_size=2)
