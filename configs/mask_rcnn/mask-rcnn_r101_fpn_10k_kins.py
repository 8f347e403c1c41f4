# MRCNN-101, KINS:
# AmodalMRCNN-101 trained on visible masks and visible boxes instead (the modal baseline).
_base_ = ['../amodal_mask_rcnn/amodal-mask-rcnn_r101_fpn_10k_kins.py',
          '../_base_/models/mask-rcnn_visible-target.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.visible_train_pipeline_kins}}))
