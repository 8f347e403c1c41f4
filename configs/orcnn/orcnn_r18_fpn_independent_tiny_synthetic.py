# ORCNN (independent) on the synthetic amodal dataset:
# L_VM and L_IVM reach neither the amodal head nor the RoI feature extraction and backbone.
_base_ = './orcnn_r18_fpn_tiny_synthetic.py'

model = dict(roi_head=dict(independent=True))
