# ORCNN (cls-agn), R101-FPN, KINS:
# class-agnostic mask predictors (the visible and occlusion heads follow the amodal one).
_base_ = './orcnn_r101_fpn_10k_kins.py'

model = dict(roi_head=dict(mask_head=dict(class_agnostic=True)))
