# AISFormer, R50-FPN, KINS: AmodalMRCNN-50 with AISFormer's mask head, on the schedule of the
# authors' KINS config (github.com/UARK-AICV/AISFormer, configs/KINS-AmodalSeg): 48k iterations
# of batch 1, SGD lr 0.0025, x0.1 at 30k and 40k (../_base_/occluder_aware/); the backbone starts
# from ImageNet weights.
_base_ = ['../_base_/occluder_aware/r50_fpn_48k_kins.py', '../_base_/models/aisformer_roi_head.py']
model = dict(roi_head={{_base_.aisformer_roi_head}})
