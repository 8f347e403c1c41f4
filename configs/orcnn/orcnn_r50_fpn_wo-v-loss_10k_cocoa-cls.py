# ORCNN (w/o L_V), R50-FPN, COCOA cls:
# no visible loss L_VM (the visible head still predicts).
_base_ = './orcnn_r50_fpn_10k_cocoa-cls.py'

model = dict(roi_head=dict(visible_mask_head=dict(loss_mask=None)))
