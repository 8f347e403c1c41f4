# AISFormer, R50-FPN, D2S amodal: AmodalMRCNN-50 with AISFormer's mask head, with the recipe of
# the authors' D2SA config, in github.com/UARK-AICV/AISFormer:
# UARK-AICV/AISFormer configs/D2SA-AmodalSeg/aisformer_R_50_FPN_1x_amodal_d2sa.yaml.
# 70k iterations of batch 2, SGD lr 0.005, x0.1 at 40k and 60k, shorter side 640-800 and longer
# at most 1333, the MSRA ImageNet R-50 (../_base_/occluder_aware/, docs/recipes.md).
_base_ = ['../_base_/occluder_aware/r50_fpn_70k_d2sa.py', '../_base_/models/aisformer_roi_head.py']
model = dict(roi_head={{_base_.aisformer_roi_head_authors}})
