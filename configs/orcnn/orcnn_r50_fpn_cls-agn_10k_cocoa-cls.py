# ORCNN (cls-agn), R50-FPN, COCOA cls, paper Table 4:
# class-agnostic mask predictors (the visible and occlusion heads follow the amodal one).
_base_ = './orcnn_r50_fpn_10k_cocoa-cls.py'

model = dict(roi_head=dict(mask_head=dict(class_agnostic=True)))
