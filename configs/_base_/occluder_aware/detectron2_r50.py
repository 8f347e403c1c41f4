# What the published R50 configs of AISFormer (github.com/UARK-AICV/AISFormer, configs/) and of
# aistron's BCNet (github.com/trqminh/aistron, projects/BCNet/configs/) take from Detectron2's
# defaults (detectron2/config/defaults.py), in mmdet's terms; docs/recipes.md lists every setting
# with its source. The r50_fpn_* files beside this one apply it to an AmodalMRCNN-50 config:
# - the caffe-style MSRA ResNet-50 (MODEL.WEIGHTS detectron2://ImageNetPretrained/MSRA/R-50.pkl,
#   RESNETS.STRIDE_IN_1X1 True, NORM FrozenBN; BGR input, PIXEL_MEAN [103.530, 116.280, 123.675],
#   PIXEL_STD [1, 1, 1]) as mmdet's mask-rcnn_r50-caffe_fpn configs build it, from the same
#   weights converted by OpenMMLab;
# - 512 RoIs per image (ROI_HEADS.BATCH_SIZE_PER_IMAGE) and 2000 proposals per FPN level before
#   the RPN's NMS in training (RPN.PRE_NMS_TOPK_TRAIN; mmdet's nms_pre is per level too);
# - no weight decay on the norm layers' weights and biases (SOLVER.WEIGHT_DECAY_NORM 0).
detectron2_r50_model = dict(
    data_preprocessor=dict(mean=[103.530, 116.280, 123.675], std=[1.0, 1.0, 1.0],
                           bgr_to_rgb=False),
    backbone=dict(style='caffe', norm_cfg=dict(requires_grad=False),
                  init_cfg=dict(_delete_=True, type='Pretrained',
                                checkpoint='open-mmlab://detectron2/resnet50_caffe')),
    train_cfg=dict(rpn_proposal=dict(nms_pre=2000), rcnn=dict(sampler=dict(num=512))))
detectron2_paramwise_cfg = dict(norm_decay_mult=0.)
# Detectron2's warm-up (SOLVER.WARMUP_METHOD linear, WARMUP_FACTOR 0.001, WARMUP_ITERS 1000)
detectron2_warmup = dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000)
