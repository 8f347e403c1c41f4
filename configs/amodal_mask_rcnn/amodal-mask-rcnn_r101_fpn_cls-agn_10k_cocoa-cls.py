# AmodalMRCNN-101 (cls-agn) on COCOA cls (paper Table 4): class-agnostic mask predictor.
_base_ = './amodal-mask-rcnn_r101_fpn_10k_cocoa-cls.py'

model = dict(roi_head=dict(mask_head=dict(class_agnostic=True)))
