# ORCNN (w/o L_V), R101-FPN, D2S amodal, paper Table 6:
# no visible loss L_VM (the visible head still predicts).
_base_ = './orcnn_r101_fpn_10k_d2sa.py'

model = dict(roi_head=dict(visible_mask_head=dict(loss_mask=None)))
