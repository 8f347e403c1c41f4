# ORCNN (w/o L_IV), R101-FPN, COCOA:
# no occlusion loss L_IVM (the occlusion head still predicts).
_base_ = './orcnn_r101_fpn_10k_cocoa.py'

model = dict(roi_head=dict(invisible_mask_head=dict(loss_mask=None)))
