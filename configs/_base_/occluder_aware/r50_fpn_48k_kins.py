# AmodalMRCNN-50 on KINS with the recipe of the published KINS configs of AISFormer
# (github.com/UARK-AICV/AISFormer, configs/Base-RCNN-FPN-KINS.yaml) and of aistron's BCNet
# (github.com/trqminh/aistron, projects/BCNet/configs/KINS2020/): 48k iterations of batch 1, SGD
# lr 0.0025 (momentum 0.9, weight decay 1e-4), x0.1 at 30k and 40k, Detectron2's linear warm-up
# over 1000 iterations; shorter side 800, longer side at most 3000 in training and testing; the
# caffe-style MSRA ImageNet R-50, 512 RoIs per image, no weight decay on norm layers
# (detectron2_r50.py); the occluder targets of their data preparation. docs/recipes.md lists each
# setting with its source. The occluder-aware configs add their mask head:
#   _base_ = ['../_base_/occluder_aware/r50_fpn_48k_kins.py', '../_base_/models/<head>_roi_head.py']
_base_ = ['../../amodal_mask_rcnn/amodal-mask-rcnn_r50_fpn_10k_kins.py',
          '../datasets/occluder_targets.py', './detectron2_r50.py']
model = {{_base_.detectron2_r50_model}}
load_from = None

max_iters = 48000
train_dataloader = dict(batch_size=1,
                        dataset=dict(pipeline={{_base_.occluder_kins_train_pipeline}}))
train_cfg = dict(max_iters=max_iters, val_interval=16000)
optim_wrapper = dict(optimizer=dict(lr=0.0025),
                     paramwise_cfg={{_base_.detectron2_paramwise_cfg}})
param_scheduler = [
    {{_base_.detectron2_warmup}},
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[30000, 40000],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=16000))
# the authors' batch of 1 image; --auto-scale-lr scales lr from it
auto_scale_lr = dict(base_batch_size=1)
