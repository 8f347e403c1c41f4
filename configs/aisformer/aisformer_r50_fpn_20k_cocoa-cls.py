# AISFormer, R50-FPN, COCOA cls: AmodalMRCNN-50 with AISFormer's mask head, with the recipe of the
# authors' COCOA cls config, in github.com/UARK-AICV/AISFormer:
# UARK-AICV/AISFormer configs/COCOA_cls-AmodalSeg/aisformer_R_50_FPN_1x_amodal_cocoa_cls.yaml.
# 20k iterations of batch 2, SGD lr 0.0005, x0.1 at 5k and 8k (SOLVER.STEPS of their base
# config, kept when MAX_ITER went to 20k); the backbone starts from the MSRA ImageNet R-50
# (../_base_/occluder_aware/, docs/recipes.md).
_base_ = ['../_base_/occluder_aware/r50_fpn_cocoa-cls.py',
          '../_base_/models/aisformer_roi_head.py']
model = dict(roi_head={{_base_.aisformer_roi_head_authors}})

max_iters = 20000
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    {{_base_.detectron2_warmup}},
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[5000, 8000],
         gamma=0.1)
]
