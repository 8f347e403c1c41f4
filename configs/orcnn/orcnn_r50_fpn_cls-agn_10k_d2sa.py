# ORCNN (cls-agn), R50-FPN, D2S amodal, paper Table 6:
# class-agnostic mask predictors (the visible and occlusion heads follow the amodal one).
_base_ = './orcnn_r50_fpn_10k_d2sa.py'

model = dict(roi_head=dict(mask_head=dict(class_agnostic=True)))
