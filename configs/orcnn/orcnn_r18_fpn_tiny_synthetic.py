# ORCNN on the synthetic amodal dataset (`make demo`): the tiny AmodalMRCNN plus the visible and
# occlusion mask heads; 2 CPU cores train it in minutes.
_base_ = ['../amodal_mask_rcnn/amodal-mask-rcnn_r18_fpn_tiny_synthetic.py',
          '../_base_/models/orcnn_roi_head.py']
model = dict(roi_head={{_base_.orcnn_roi_head}})
