# AmodalMRCNN-50 on D2S amodal with the recipe of the published D2S amodal configs of AISFormer
# (github.com/UARK-AICV/AISFormer, configs/Base-RCNN-FPN-D2SA.yaml) and of aistron's BCNet
# (github.com/trqminh/aistron, projects/BCNet/configs/D2SA/): 70k iterations of batch 2, SGD lr
# 0.005 (momentum 0.9, weight decay 1e-4), x0.1 at 40k and 60k, Detectron2's linear warm-up over
# 1000 iterations; Detectron2's default sizes (../datasets/amodal_instance.py,
# multiscale_train_pipeline and test_pipeline_1333); the caffe-style MSRA ImageNet R-50, 512 RoIs
# per image, no weight decay on norm layers (detectron2_r50.py); the occluder targets of their
# data preparation. docs/recipes.md lists each setting with its source. The occluder-aware
# configs add their mask head:
#   _base_ = ['../_base_/occluder_aware/r50_fpn_70k_d2sa.py', '../_base_/models/<head>_roi_head.py']
_base_ = ['../../amodal_mask_rcnn/amodal-mask-rcnn_r50_fpn_10k_d2sa.py',
          '../datasets/occluder_targets.py', './detectron2_r50.py']
model = {{_base_.detectron2_r50_model}}
load_from = None

max_iters = 70000
train_dataloader = dict(batch_size=2,
                        dataset=dict(pipeline={{_base_.occluder_multiscale_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_1333}}))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=max_iters, val_interval=10000)
optim_wrapper = dict(optimizer=dict(lr=0.005),
                     paramwise_cfg={{_base_.detectron2_paramwise_cfg}})
param_scheduler = [
    {{_base_.detectron2_warmup}},
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[40000, 60000],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=10000))
# the authors' batch of 2 images; --auto-scale-lr scales lr from it
auto_scale_lr = dict(base_batch_size=2)
