# ORCNN (independent), R50-FPN, COCOA:
# L_VM and L_IVM reach neither the amodal head nor the RoI feature extraction and backbone.
_base_ = './orcnn_r50_fpn_10k_cocoa.py'

model = dict(roi_head=dict(independent=True))
