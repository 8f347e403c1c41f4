# ORCNN (w/o L_V) on the synthetic amodal dataset:
# no visible loss L_VM (the visible head still predicts).
_base_ = './orcnn_r18_fpn_tiny_synthetic.py'

model = dict(roi_head=dict(visible_mask_head=dict(loss_mask=None)))
