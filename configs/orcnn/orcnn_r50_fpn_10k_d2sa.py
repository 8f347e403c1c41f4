# ORCNN, R50-FPN, D2S amodal, paper Table 6:
# AmodalMRCNN-50 plus the visible and occlusion mask heads, initialised from COCO Mask R-CNN
# (appendix A).
_base_ = ['../amodal_mask_rcnn/amodal-mask-rcnn_r50_fpn_10k_d2sa.py',
          '../_base_/models/orcnn_roi_head.py']
model = dict(roi_head={{_base_.orcnn_roi_head}})
load_from = {{_base_.orcnn_r50_fpn_coco_init}}
