# BCNet, R50-FPN, D2S amodal: AmodalMRCNN-50 with BCNet's bilayer mask head, with the recipe of
# aistron's BCNet D2SA config (github.com/trqminh/aistron,
# projects/BCNet/configs/D2SA/bcnet_R50_FPN_d2sa_18ep_bs2.yaml): 70k iterations of batch 2, SGD
# lr 0.005, x0.1 at 40k and 60k, shorter side 640-800 and longer at most 1333, the MSRA ImageNet
# R-50 (../_base_/occluder_aware/, docs/recipes.md).
_base_ = ['../_base_/occluder_aware/r50_fpn_70k_d2sa.py', '../_base_/models/bcnet_roi_head.py']
model = dict(roi_head={{_base_.bcnet_roi_head_authors}})
