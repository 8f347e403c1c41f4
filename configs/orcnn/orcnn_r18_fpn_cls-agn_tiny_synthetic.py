# ORCNN (cls-agn) on the synthetic amodal dataset:
# class-agnostic mask predictors (the visible and occlusion heads follow the amodal one).
_base_ = './orcnn_r18_fpn_tiny_synthetic.py'

model = dict(roi_head=dict(mask_head=dict(class_agnostic=True)))
