# ORCNN (w/o L_IV) on the synthetic amodal dataset:
# no occlusion loss L_IVM (the occlusion head still predicts).
_base_ = './orcnn_r18_fpn_tiny_synthetic.py'

model = dict(roi_head=dict(invisible_mask_head=dict(loss_mask=None)))
