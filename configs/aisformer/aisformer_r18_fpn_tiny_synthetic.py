# AISFormer on the synthetic amodal dataset: the tiny AmodalMRCNN (half-width R18-FPN, 900
# iterations of AdamW, batch 4, as configs/orcnn/orcnn_r18_fpn_tiny_synthetic.py) with AISFormer's
# transformer mask head, 32 channels wide, without dropout; the training pipeline of
# ../_base_/datasets/synthetic_amodal.py with the occluder targets.
_base_ = ['../amodal_mask_rcnn/amodal-mask-rcnn_r18_fpn_tiny_synthetic.py',
          '../_base_/models/aisformer_roi_head.py', '../_base_/datasets/occluder_targets.py']
model = dict(roi_head={{_base_.aisformer_roi_head_no_dropout}})

train_dataloader = dict(dataset=dict(pipeline={{_base_.occluder_synthetic_train_pipeline}}))
