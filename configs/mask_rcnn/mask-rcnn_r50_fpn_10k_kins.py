# MRCNN-50, KINS:
# AmodalMRCNN-50 trained on visible masks and visible boxes instead (the modal baseline).
_base_ = ['../amodal_mask_rcnn/amodal-mask-rcnn_r50_fpn_10k_kins.py',
          '../_base_/models/mask-rcnn_visible-target.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.visible_train_pipeline_kins}}))
