# AmodalMRCNN-101 (cls-agn) on D2S amodal (paper Table 6, first row): class-agnostic mask predictor.
_base_ = './amodal-mask-rcnn_r101_fpn_10k_d2sa.py'

model = dict(roi_head=dict(mask_head=dict(class_agnostic=True)))
