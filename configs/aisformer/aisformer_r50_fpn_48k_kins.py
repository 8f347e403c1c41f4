# AISFormer, R50-FPN, KINS: AmodalMRCNN-50 with AISFormer's mask head, with the recipe of the
# authors' KINS config, in github.com/UARK-AICV/AISFormer:
# UARK-AICV/AISFormer configs/KINS-AmodalSeg/aisformer_R_50_FPN_1x_amodal_kins.yaml.
# 48k iterations of batch 1, SGD lr 0.0025, x0.1 at 30k and 40k, shorter side 800 and longer at
# most 3000, the MSRA ImageNet R-50 (../_base_/occluder_aware/, docs/recipes.md).
_base_ = ['../_base_/occluder_aware/r50_fpn_48k_kins.py', '../_base_/models/aisformer_roi_head.py']
model = dict(roi_head={{_base_.aisformer_roi_head_authors}})
