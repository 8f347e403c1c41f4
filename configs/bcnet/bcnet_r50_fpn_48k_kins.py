# BCNet, R50-FPN, KINS: AmodalMRCNN-50 with BCNet's bilayer mask head, with the recipe of aistron's
# BCNet KINS config (github.com/trqminh/aistron,
# projects/BCNet/configs/KINS2020/bcnet_R50_FPN_kins2020_6ep_bs1.yaml; the 2020 release of KINS
# with 8 classes, trained as the 7-class KINS here): 48k iterations of batch 1, SGD lr 0.0025, x0.1
# at 30k and 40k, shorter side 800 and longer at most 3000, the MSRA ImageNet R-50
# (../_base_/occluder_aware/, docs/recipes.md).
_base_ = ['../_base_/occluder_aware/r50_fpn_48k_kins.py', '../_base_/models/bcnet_roi_head.py']
model = dict(roi_head={{_base_.bcnet_roi_head_authors}})
