"""The transformer mask head of AISFormer (Tran et al., "AISFormer: Amodal Instance Segmentation
with Transformer", BMVC 2022).

One head predicts four masks per RoI, each the dot product of a query embedding with the RoI's
per-pixel embeddings (paper 3.2-3.5):

1. feature encoding: the RoI features pass a 3x3 convolution and a 2x2 deconvolution (short-range
   features, 28 x 28) and then a transformer encoder (long-range features); the per-pixel
   embeddings are a 1x1 convolution of LayerNorm(short-range + long-range);
2. mask transformer decoding: a transformer decoder turns learnable queries, visible,
   occluder and amodal (and, in the authors' code, a fourth that gives no mask but takes part in
   the decoder's self-attention from its second layer on), into their mask embeddings (through
   an MLP) by attending to the encoded RoI;
3. invisible mask embedding: an MLP of the concatenated amodal and visible embeddings;
4. mask predicting: occluder, visible, amodal and invisible logits = embedding . pixel embedding,
   each with a per-pixel sigmoid BCE loss.

The layers are mmdet's DETR transformer layers (:mod:`mmorcnn.models.layers`: their attention
module chosen in the config), positional encoding and MLP; targets, losses and pasting are those
of mmdet's FCNMaskHead, applied to each kind (:class:`MaskLossesMixin`).
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import ConfigDict
from torch import Tensor, nn

from mmdet.models.layers import MLP, LearnedPositionalEncoding
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, InstanceList, OptConfigType
from mmorcnn.models.mask_paste import paste_masks
from mmorcnn.structures.mask_kinds import MASK_KIND
from ...layers import RoITransformerDecoder, RoITransformerEncoder
from .mask_losses import MaskLossesMixin, mask_bce, mask_loss_name

#: The kinds of masks the head predicts, in the order of its output channels.
AISFORMER_KINDS = ('occluder', 'visible', 'amodal', 'invisible')
#: The kinds of the rows of the query embedding, in the authors' order (a fourth row, if any,
#: gives no mask).
QUERIES = ('visible', 'occluder', 'amodal')


@MODELS.register_module()
class AISFormerMaskHead(MaskLossesMixin, FCNMaskHead):
    """AISFormer's mask head (Tran et al., BMVC 2022): occluder, visible, amodal and invisible
    masks from learnable queries and per-pixel embeddings of the RoI (see the module docstring).

    ``forward`` returns (N, 4, 2 * roi_feat_size, 2 * roi_feat_size) logits, channels in the
    order of :data:`AISFORMER_KINDS`. The masks are class-agnostic: one query per kind, as in
    the paper. Each kind learns from its ground truth field cropped with the positive (amodal)
    RoIs: ``gt_instances.occluder_masks`` (the union of the visible masks of the instances that
    hide part of the object), ``.visible_masks``, ``.masks`` (amodal) and ``.invisible_masks``.
    Predictions carry ``masks`` (amodal), ``visible_masks`` and ``invisible_masks``; the
    occluder mask only guides training (paper 3.5).

    Args:
        num_convs (int): 3x3 convolutions before the deconvolution. Defaults to 1 (paper 3.2).
        conv_out_channels (int): Channels of the convolutions and embedding size of the
            transformer, the queries and the pixel embeddings. Defaults to 256.
        num_heads (int): Attention heads. Defaults to 2 (the authors' configs).
        num_encoder_layers (int): Transformer encoder layers. Defaults to 1.
        num_decoder_layers (int): Transformer decoder layers. Defaults to 1.
        feedforward_channels (int, optional): Hidden size of the transformer's feed-forward
            networks. Defaults to 8 x ``conv_out_channels`` (2048 at 256 channels, DETR's and the
            authors' code's).
        dropout (float): Dropout of attention, residual branches and feed-forward networks.
            Defaults to 0.1.
        decoder_post_norm (bool): End the decoder with a LayerNorm, as mmdet's DETR decoder does.
            Defaults to False (the authors' decoder has no final norm).
        extra_query (bool): Add the authors' fourth query to the visible, occluder and amodal
            ones: it gives no mask but takes part in the decoder's self-attention. The first
            decoder layer starts from zero targets, where every query reads the same value, so
            with one decoder layer (the authors') the masks do not depend on it; with more they
            do. Defaults to True (the authors' code, whose checkpoints have 4 rows).
        transformer_init (str): ``'pytorch'``: the transformer's layers keep PyTorch's default
            initialisation, as in the authors' code (their Xavier re-initialisation is commented
            out); ``'xavier'``: Xavier-uniform for every weight matrix of the encoder and the
            decoder (DETR's). Defaults to ``'pytorch'``.
        occluder_loss_avg (str): Which positive RoIs the occluder loss averages over:
            ``'all'``, ``'nonempty'`` (those with a non-empty occluder target) or
            ``'nonempty_and_first'`` (as the authors' code;
            :func:`~mmorcnn.models.roi_heads.mask_heads.mask_losses.occluder_loss_rois`).
            Defaults to ``'all'``.
        attn_cfg (dict): Config of the attention modules, completed with the sizes and dropout
            above: the ``type`` of an mmcv-style attention (its ``forward`` as mmcv's
            ``MultiheadAttention``). Defaults to
            :class:`~mmorcnn.models.layers.MultiheadAttentionWithoutWeights`, which computes no
            attention weights that the head does not use.
        loss_mask (dict, optional): Config of the amodal mask loss (FCNMaskHead's loss),
            ``None`` to switch it off. Defaults to a per-pixel sigmoid BCE of weight 1.
        loss_occluder_mask, loss_visible_mask, loss_invisible_mask (dict, optional): Config of
            the loss of each other kind, ``None`` to switch it off. Defaults to per-pixel sigmoid
            BCE with the weights of the authors' code: occluder 0.25, visible 1, invisible 0.25.
        **kwargs: The arguments of :class:`FCNMaskHead` (``roi_feat_size``, ``in_channels``,
            ``num_classes``, ``conv_cfg``, ``norm_cfg``, ``init_cfg``, ...); ``class_agnostic``
            is always True and ``upsample_cfg`` the 2x2 deconvolution.
    """

    def __init__(self,
                 num_convs: int = 1,
                 conv_out_channels: int = 256,
                 num_heads: int = 2,
                 num_encoder_layers: int = 1,
                 num_decoder_layers: int = 1,
                 feedforward_channels: Optional[int] = None,
                 dropout: float = 0.1,
                 decoder_post_norm: bool = False,
                 extra_query: bool = True,
                 transformer_init: str = 'pytorch',
                 occluder_loss_avg: str = 'all',
                 attn_cfg: ConfigType = dict(type='MultiheadAttentionWithoutWeights'),
                 loss_mask: OptConfigType = mask_bce(1.0),
                 loss_occluder_mask: OptConfigType = mask_bce(0.25),
                 loss_visible_mask: OptConfigType = mask_bce(1.0),
                 loss_invisible_mask: OptConfigType = mask_bce(0.25),
                 **kwargs) -> None:
        for key in ('class_agnostic', 'upsample_cfg'):
            if key in kwargs:
                raise ValueError(f'AISFormerMaskHead does not take {key!r}: its masks are '
                                 'class-agnostic and its upsampling is the 2x2 deconvolution')
        super().__init__(
            num_convs=num_convs,
            conv_out_channels=conv_out_channels,
            class_agnostic=True,
            upsample_cfg=dict(type='deconv', scale_factor=2),
            **kwargs)
        self.conv_logits = None  # the logits are dot products of embeddings (paper 3.5)
        self._init_mask_losses(dict(occluder=loss_occluder_mask, visible=loss_visible_mask,
                                    amodal=loss_mask, invisible=loss_invisible_mask),
                               occluder_loss_avg)
        if transformer_init not in ('pytorch', 'xavier'):
            raise ValueError(f"transformer_init must be 'pytorch' or 'xavier', got "
                             f'{transformer_init!r}')
        self.transformer_init = transformer_init

        dims = conv_out_channels
        if dims % 2:
            raise ValueError(f'conv_out_channels must be even (positional encoding of rows and '
                             f'columns), got {dims}')
        size = 2 * self.roi_feat_size[0], 2 * self.roi_feat_size[1]
        attention = dict(attn_cfg, embed_dims=dims, num_heads=num_heads, attn_drop=dropout,
                         dropout_layer=dict(type='Dropout', drop_prob=dropout))
        ffn = dict(embed_dims=dims, feedforward_channels=feedforward_channels or 8 * dims,
                   num_fcs=2, ffn_drop=dropout, act_cfg=dict(type='ReLU', inplace=True))
        # 3.2: learned positional encoding of the 28 x 28 positions (DETR's learned variant)
        self.positional_encoding = LearnedPositionalEncoding(
            num_feats=dims // 2, row_num_embed=size[0], col_num_embed=size[1])
        self.encoder = RoITransformerEncoder(
            num_layers=num_encoder_layers,
            layer_cfg=dict(self_attn_cfg=dict(attention), ffn_cfg=dict(ffn)))
        # 3.3: the visible, occluder and amodal queries (rows in the authors' order), and their
        # fourth
        self.query_embed = nn.Embedding(len(QUERIES) + int(extra_query), dims)
        self.decoder = RoITransformerDecoder(
            num_layers=num_decoder_layers,
            layer_cfg=dict(self_attn_cfg=dict(attention), cross_attn_cfg=dict(attention),
                           ffn_cfg=dict(ffn)),
            post_norm_cfg=dict(type='LN') if decoder_post_norm else None,
            return_intermediate=False)
        self.mask_embed = MLP(dims, dims, dims, 3)
        # 3.4: the invisible embedding from [amodal, visible]
        self.invisible_embed = MLP(2 * dims, dims, dims, 2)
        self.pixel_norm = nn.LayerNorm(dims)
        self.pixel_embed = nn.Conv2d(dims, dims, 1)

    def init_weights(self) -> None:
        """As the authors' code: FCNMaskHead's (Kaiming) initialisation of the convolution and
        the deconvolution; Xavier-uniform weights of the MLPs; near-zero pixel embeddings, so
        that every mask starts at probability 0.5; the transformer as ``transformer_init`` says
        (PyTorch's default initialisation unless ``'xavier'``)."""
        super().init_weights()
        modules = [self.mask_embed, self.invisible_embed]
        if self.transformer_init == 'xavier':
            modules += [self.encoder, self.decoder]
        for module in modules:
            for param in module.parameters():
                if param.dim() > 1:
                    nn.init.xavier_uniform_(param)
        nn.init.normal_(self.pixel_embed.weight, std=0.001)
        nn.init.zeros_(self.pixel_embed.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Logits of the four kinds of masks.

        Args:
            x (Tensor): RoI features, (N, in_channels, roi_feat_size, roi_feat_size).

        Returns:
            Tensor: (N, 4, 2 * roi_feat_size, 2 * roi_feat_size) logits, channels in the order of
            :data:`AISFORMER_KINDS` (occluder, visible, amodal, invisible).
        """
        for conv in self.convs:
            x = conv(x)
        short_range = self.relu(self.upsample(x))  # (N, C, 28, 28)
        num, dims, height, width = short_range.shape
        pos = self.positional_encoding(short_range.new_zeros(1, height, width))
        pos = pos.flatten(2).transpose(1, 2).expand(num, -1, -1)  # (N, HW, C)
        long_range = self.encoder(
            query=short_range.flatten(2).transpose(1, 2), query_pos=pos, key_padding_mask=None)

        queries = self.query_embed.weight[None].expand(num, -1, -1)  # (N, 3 or 4, C)
        decoded = self.decoder(
            query=torch.zeros_like(queries), key=long_range, value=long_range,
            query_pos=queries, key_pos=pos, key_padding_mask=None)[-1]
        # the fourth query's embedding, if any, gives no mask
        visible, occluder, amodal = self.mask_embed(decoded[:, :len(QUERIES)]).unbind(1)
        invisible = self.invisible_embed(torch.cat([amodal, visible], dim=1))
        embeds = torch.stack([occluder, visible, amodal, invisible], dim=1)  # (N, 4, C)

        pixels = long_range.transpose(1, 2).reshape(num, dims, height, width) + short_range
        pixels = self.pixel_norm(pixels.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        pixels = self.pixel_embed(pixels)
        return torch.einsum('nqc,nchw->nqhw', embeds, pixels)

    @staticmethod
    def logits_of(mask_preds: Tensor, kind: str) -> Tensor:
        """The (N, 1, h, w) logits of one kind (``'occluder'``, ``'visible'``, ...) out of the
        (N, 4, h, w) output of :meth:`forward`."""
        index = AISFORMER_KINDS.index(kind)
        return mask_preds[:, index:index + 1]

    #: The key of a kind's loss: ``loss_<kind>_mask``.
    loss_name = staticmethod(mask_loss_name)

    def predict_by_feat(self,
                        mask_preds: Tuple[Tensor],
                        results_list: InstanceList,
                        batch_img_metas: List[dict],
                        rcnn_test_cfg: ConfigDict,
                        rescale: bool = False,
                        activate_map: bool = False) -> InstanceList:
        """Paste the amodal, visible and invisible masks into ``results.masks``,
        ``.visible_masks`` and ``.invisible_masks`` (one pass per box, :func:`paste_masks`).

        Args:
            mask_preds (tuple[Tensor]): Per image, the (n, 4, h, w) output of :meth:`forward`.
            results_list, batch_img_metas, rcnn_test_cfg, rescale, activate_map: As
                :meth:`FCNMaskHead.predict_by_feat`.

        Returns:
            list[:obj:`InstanceData`]: ``results_list`` with the three kinds of (N, H, W) masks.
        """
        per_image = [self.kind_logits(preds) for preds in mask_preds]
        kinds = ('amodal', 'visible', 'invisible')
        return paste_masks([(MASK_KIND[kind].field, True) for kind in kinds],
                           [tuple(logits[kind] for logits in per_image) for kind in kinds],
                           results_list, batch_img_metas, rcnn_test_cfg, rescale, activate_map)

    @classmethod
    def kind_logits(cls, mask_preds: Tensor) -> Dict[str, Tensor]:
        """The (N, 1, h, w) ``amodal``, ``visible`` and ``invisible`` logits of the output of
        :meth:`forward` (class-agnostic), as :meth:`predict_by_feat` pastes them."""
        return {kind: cls.logits_of(mask_preds, kind) for kind in ('amodal', 'visible',
                                                                     'invisible')}
