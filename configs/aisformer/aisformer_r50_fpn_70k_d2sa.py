# AISFormer, R50-FPN, D2S amodal: AmodalMRCNN-50 with AISFormer's mask head, on the schedule of
# the authors' D2SA config (github.com/UARK-AICV/AISFormer, configs/D2SA-AmodalSeg): 70k
# iterations of batch 2, SGD lr 0.005, x0.1 at 40k and 60k (../_base_/occluder_aware/); the
# backbone starts from ImageNet weights.
_base_ = ['../_base_/occluder_aware/r50_fpn_70k_d2sa.py', '../_base_/models/aisformer_roi_head.py']
model = dict(roi_head={{_base_.aisformer_roi_head}})
