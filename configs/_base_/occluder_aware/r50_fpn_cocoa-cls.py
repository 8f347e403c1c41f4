# AmodalMRCNN-50 on COCOA cls with the recipe of the published COCOA cls configs of AISFormer
# (github.com/UARK-AICV/AISFormer, configs/Base-RCNN-FPN-COCOA_cls.yaml) and of aistron's BCNet
# (github.com/trqminh/aistron, projects/BCNet/configs/COCOA-cls/): batch 2, SGD lr 0.0005
# (momentum 0.9, weight decay 1e-4), x0.1 at 5k and 8k, Detectron2's linear warm-up over 1000
# iterations (the number of iterations is each method's: its config sets it and the lr steps);
# Detectron2's default sizes (../datasets/amodal_instance.py, multiscale_train_pipeline and
# test_pipeline_1333); the caffe-style MSRA ImageNet R-50, 512 RoIs per image, no weight decay
# on norm layers (detectron2_r50.py); the occluder targets of their data preparation.
# docs/recipes.md lists each setting with its source. The occluder-aware configs add their mask
# head and schedule:
#   _base_ = ['../_base_/occluder_aware/r50_fpn_cocoa-cls.py',
#             '../_base_/models/<head>_roi_head.py']
_base_ = ['../../amodal_mask_rcnn/amodal-mask-rcnn_r50_fpn_10k_cocoa-cls.py',
          '../datasets/occluder_targets.py', './detectron2_r50.py']
model = {{_base_.detectron2_r50_model}}
load_from = None

train_dataloader = dict(batch_size=2,
                        dataset=dict(pipeline={{_base_.occluder_multiscale_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_1333}}))
test_dataloader = val_dataloader
train_cfg = dict(val_interval=5000)
optim_wrapper = dict(optimizer=dict(lr=0.0005),
                     paramwise_cfg={{_base_.detectron2_paramwise_cfg}})
default_hooks = dict(checkpoint=dict(interval=5000))
# the authors' batch of 2 images; --auto-scale-lr scales lr from it
auto_scale_lr = dict(base_batch_size=2)
