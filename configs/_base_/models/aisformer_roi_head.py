# What AISFormer (Tran et al., "AISFormer: Amodal Instance Segmentation with Transformer",
# BMVC 2022) puts on Mask R-CNN, applied to an AmodalMRCNN config by
#   _base_ = ['../amodal_mask_rcnn/<AmodalMRCNN config>.py',
#             '../_base_/models/aisformer_roi_head.py']
#   model = dict(roi_head={{_base_.aisformer_roi_head}})
# (the tiny synthetic AISFormer and its AmodalMRCNN baseline differ only in the mask head; the R50
# configs add the authors' recipe, ../occluder_aware/). The RPN and the box
# head learn amodal boxes as in AmodalMRCNN; the mask head is AISFormer's transformer head on the
# same 14 x 14 RoI features: one 3x3 conv and a 2x2 deconv (28 x 28), a transformer encoder and
# decoder of one layer each with 2 heads (the authors' configs), learnable occluder, visible and
# amodal queries, the invisible embedding from the amodal and visible ones, masks as dot
# products with the per-pixel embeddings. Its width is the AmodalMRCNN mask head's
# `conv_out_channels` (256 for R50, 32 for the tiny model), the feed-forward width 8 times that.
# Loss weights as in the authors' code: amodal 1, visible 1, occluder 0.25, invisible 0.25, each a
# per-pixel sigmoid BCE; `loss_..._mask=None` switches one off. As in the authors' code, the decoder
# has no final norm, a fourth query (no mask; with one decoder layer it changes none) is kept, and
# the transformer keeps PyTorch's initialisation (the head's defaults `decoder_post_norm=False`,
# `extra_query=True`, `transformer_init='pytorch'`); `occluder_loss_avg` (default 'all') chooses
# the RoIs of the occluder loss (the authors' selection in aisformer_roi_head_authors below). The attention modules are mmcv's
# MultiheadAttention computing no attention weights, which the head does not use
# (`attn_cfg=dict(type='MultiheadAttention')` computes them, with the same outputs).
aisformer_roi_head = dict(
    type='AmodalRoIHead',
    mask_head=dict(
        type='AISFormerMaskHead',
        num_convs=1,
        num_heads=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dropout=0.1,
        attn_cfg=dict(type='MultiheadAttentionWithoutWeights'),
        loss_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0),
        loss_visible_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0),
        loss_occluder_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=0.25),
        loss_invisible_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=0.25)))
# The same without dropout, for the tiny synthetic model trained from scratch on 2 CPU cores: the
# attention dropout draws a mask over the 784 x 784 attention weights of every RoI, most of the
# mask head's time there.
aisformer_roi_head_no_dropout = dict(
    aisformer_roi_head, mask_head=dict(aisformer_roi_head['mask_head'], dropout=0.0))
# The head of the authors' recipes (../occluder_aware/, docs/recipes.md): the occluder loss
# averaged as the authors' `mask_rcnn_loss` (UARK-AICV/AISFormer,
# detectron2/modeling/roi_heads/mask_head.py) does, over the RoIs whose occluder target is not
# empty followed by as many of the first positive RoIs.
aisformer_roi_head_authors = dict(
    aisformer_roi_head,
    mask_head=dict(aisformer_roi_head['mask_head'], occluder_loss_avg='nonempty_and_first'))
