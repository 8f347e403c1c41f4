# ORCNN (w/o L_IV), R50-FPN, KINS:
# no occlusion loss L_IVM (the occlusion head still predicts).
_base_ = './orcnn_r50_fpn_10k_kins.py'

model = dict(roi_head=dict(invisible_mask_head=dict(loss_mask=None)))
