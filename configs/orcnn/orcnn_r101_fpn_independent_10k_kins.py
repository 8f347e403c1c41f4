# ORCNN (independent), R101-FPN, KINS:
# L_VM and L_IVM reach neither the amodal head nor the RoI feature extraction and backbone.
_base_ = './orcnn_r101_fpn_10k_kins.py'

model = dict(roi_head=dict(independent=True))
