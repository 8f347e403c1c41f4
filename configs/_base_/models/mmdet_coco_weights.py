# COCO-trained Mask R-CNN weights from mmdet's model zoo. The paper fine-tunes every model from a
# COCO model (appendix A); class-specific output layers whose shape differs are skipped by
# mmengine's loader and trained from scratch. For ORCNN, convert the checkpoint first with
# tools/model_converters/ (both mask heads start from the COCO mask head).
mask_rcnn_r50_fpn_coco = 'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/mask_rcnn_r50_fpn_1x_coco/mask_rcnn_r50_fpn_1x_coco_20200205-d4b0c5d6.pth'  # noqa
mask_rcnn_r101_fpn_coco = 'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/mask_rcnn_r101_fpn_1x_coco/mask_rcnn_r101_fpn_1x_coco_20200204-1efe0ed5.pth'  # noqa
# caffe-style (MSRA) R-50, the backbone of the authors' recipes of AISFormer and BCNet
# (../occluder_aware/detectron2_r50.py): mmdet's mask-rcnn_r50-caffe_fpn_ms-poly-3x_coco
mask_rcnn_r50_caffe_fpn_coco = 'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/mask_rcnn_r50_caffe_fpn_mstrain-poly_3x_coco/mask_rcnn_r50_caffe_fpn_mstrain-poly_3x_coco_bbox_mAP-0.408__segm_mAP-0.37_20200504_163245-42aa3d00.pth'  # noqa
