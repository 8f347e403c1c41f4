# BCNet, R50-FPN, COCOA cls: AmodalMRCNN-50 with BCNet's bilayer mask head, with the recipe of
# aistron's BCNet COCOA cls config (github.com/trqminh/aistron,
# projects/BCNet/configs/COCOA-cls/bcnet_R50_FPN_cocoa_cls_8ep_bs2.yaml; ../_base_/occluder_aware/,
# docs/recipes.md): 10k iterations of batch 2, SGD lr 0.0005, x0.1 at 5k and 8k. As there, the
# model starts from Detectron2's COCO Mask R-CNN R50-FPN
# (new_baselines/mask_rcnn_R_50_FPN_400ep_LSJ, model_final_14d201.pkl), converted for this config
# by
#   python tools/model_converters/detectron2_to_mmorcnn.py model_final_14d201.pkl \
#       checkpoints/d2_mask_rcnn_R_50_FPN_400ep_LSJ_coco.pth \
#       --config configs/bcnet/bcnet_r50_fpn_10k_cocoa-cls.py
# Its mask head initialises the occludee branch's convolutions, deconvolution and amodal
# predictor, which have the names of FCNMaskHead's; the occluder branch and the boundary outputs
# start from their initialisation. From mmdet's caffe-style COCO Mask R-CNN instead (downloaded,
# no conversion; the same architecture as this model):
#   load_from = {{_base_.mask_rcnn_r50_caffe_fpn_coco}}
_base_ = ['../_base_/occluder_aware/r50_fpn_cocoa-cls.py', '../_base_/models/bcnet_roi_head.py']
model = dict(backbone=dict(init_cfg=None),  # load_from replaces every weight
             roi_head={{_base_.bcnet_roi_head_authors}})
load_from = 'checkpoints/d2_mask_rcnn_R_50_FPN_400ep_LSJ_coco.pth'

max_iters = 10000
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    {{_base_.detectron2_warmup}},
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[5000, 8000],
         gamma=0.1)
]
