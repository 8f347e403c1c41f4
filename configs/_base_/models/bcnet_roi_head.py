# What BCNet (Ke, Tai, Tang, "Deep Occlusion-Aware Instance Segmentation with Overlapping
# BiLayers", CVPR 2021), in its amodal form, puts on Mask R-CNN, applied to an AmodalMRCNN config by
#   _base_ = ['../amodal_mask_rcnn/<AmodalMRCNN config>.py',
#             '../_base_/models/bcnet_roi_head.py', '../_base_/datasets/occluder_targets.py']
#   model = dict(roi_head={{_base_.bcnet_roi_head}})
# (the tiny synthetic BCNet and its AmodalMRCNN baseline differ only in the mask head; the R50
# configs add the authors' recipe, ../occluder_aware/). The RPN and the box head learn amodal
# boxes as in AmodalMRCNN; the mask head is BCNet's bilayer head on the same 14 x 14
# RoI features: an occluder branch (4 3x3 convs, a non-local operator after the second) predicting
# the occluder's mask and boundary, whose features are added to the RoI features entering the
# occludee branch (the same layers) predicting the amodal mask and boundary. Its width is the
# AmodalMRCNN mask head's `conv_out_channels` (256 for R50, 32 for the tiny model).
# Loss weights as the effective ones of the authors' code (lkeab/BCNet, whose boundary losses are
# two equal BCE terms times 0.5): amodal mask 1, amodal boundary 1, occluder mask 0.25, occluder
# boundary 1, each a per-pixel sigmoid BCE; `loss_...=None` switches one off.
bcnet_roi_head = dict(
    type='AmodalRoIHead',
    mask_head=dict(
        type='BCNetMaskHead',
        num_convs=4,
        nonlocal_after=2,
        loss_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0),
        loss_amodal_boundary=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0),
        loss_occluder_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=0.25),
        loss_occluder_boundary=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0)))
# The head of the authors' recipes (../occluder_aware/, docs/recipes.md), whose configs follow
# aistron's BCNet (trqminh/aistron, projects/BCNet): its loss as aistron's `BCNet.forward`
# (projects/BCNet/bcnet/mask_head.py) computes it, the four BCE terms with weight 1 each, every
# one averaged over all positive RoIs. lkeab/BCNet's loss instead (occluder mask 0.25, the
# occluder losses over its RoI selection):
#   model.roi_head.mask_head.occluder_loss_avg=nonempty_and_first
#   model.roi_head.mask_head.loss_occluder_mask.loss_weight=0.25
bcnet_roi_head_authors = dict(
    bcnet_roi_head,
    mask_head=dict(
        bcnet_roi_head['mask_head'],
        occluder_loss_avg='all',
        loss_occluder_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0)))
