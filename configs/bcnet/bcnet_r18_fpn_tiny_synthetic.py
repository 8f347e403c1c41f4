# BCNet on the synthetic amodal dataset: the tiny AmodalMRCNN (half-width R18-FPN, 900 iterations
# of AdamW, batch 4, as configs/orcnn/orcnn_r18_fpn_tiny_synthetic.py) with BCNet's bilayer mask
# head, 32 channels wide; the training pipeline of ../_base_/datasets/synthetic_amodal.py with the
# occluder targets.
_base_ = ['../amodal_mask_rcnn/amodal-mask-rcnn_r18_fpn_tiny_synthetic.py',
          '../_base_/models/bcnet_roi_head.py', '../_base_/datasets/occluder_targets.py']
model = dict(roi_head={{_base_.bcnet_roi_head}})

train_dataloader = dict(dataset=dict(pipeline={{_base_.occluder_synthetic_train_pipeline}}))
