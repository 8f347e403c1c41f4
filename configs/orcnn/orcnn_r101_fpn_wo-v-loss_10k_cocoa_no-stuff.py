# ORCNN (w/o L_V), R101-FPN, COCOA no stuff:
# no visible loss L_VM (the visible head still predicts).
_base_ = './orcnn_r101_fpn_10k_cocoa_no-stuff.py'

model = dict(roi_head=dict(visible_mask_head=dict(loss_mask=None)))
