# MRCNN (paper Tables 3, 4): mmdet's Mask R-CNN trained on the visible masks and the boxes of the
# visible masks, which LoadAmodalAnnotations(target='visible') makes gt_masks / gt_bboxes. These are
# the training pipelines of ../datasets/amodal_instance.py and ../datasets/synthetic_amodal.py with
# that one change; a config applies one to its AmodalMRCNN config by
#   _base_ = ['../amodal_mask_rcnn/<AmodalMRCNN config>.py',
#             '../_base_/models/mask-rcnn_visible-target.py']
#   train_dataloader = dict(dataset=dict(pipeline={{_base_.visible_train_pipeline}}))
# At test time it predicts one mask per instance, which the amodal metric scores as both its
# amodal and its visible mask (paper 3.3).
visible_train_pipeline = [
    dict(type='LoadNamedImageFromFile'),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True, target='visible'),
    dict(type='Resize', scale=(1111, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAmodalDetInputs')
]
# KINS: shorter side 800, longer side at most 3000 (../datasets/kins.py)
visible_train_pipeline_kins = [
    dict(step, scale=(3000, 800)) if step['type'] == 'Resize' else step
    for step in visible_train_pipeline
]
# the synthetic data's 192 x 192 images
visible_train_pipeline_synthetic = [
    dict(step, scale=(192, 192)) if step['type'] == 'Resize' else step
    for step in visible_train_pipeline
]
