# MRCNN on the synthetic amodal dataset: the tiny AmodalMRCNN trained on visible masks and
# visible boxes instead (the modal baseline).
_base_ = ['../amodal_mask_rcnn/amodal-mask-rcnn_r18_fpn_tiny_synthetic.py',
          '../_base_/models/mask-rcnn_visible-target.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.visible_train_pipeline_synthetic}}))
