"""The transformer of AISFormer's mask head: mmdet's DETR encoder and decoder, with the attention
module chosen in the config and the decoder's final norm optional.

mmdet's DETR layers build mmcv's ``MultiheadAttention`` by its class; the layers here build the
attention from the ``type`` of their attention config (mmcv's ``MultiheadAttention`` without
one), so that a config chooses, e.g., :class:`MultiheadAttentionWithoutWeights`.
"""
from typing import Optional

from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import FFN, MultiheadAttention
from mmengine.model import ModuleList
from torch import nn

from mmdet.models.layers import (DetrTransformerDecoder, DetrTransformerDecoderLayer,
                                 DetrTransformerEncoder, DetrTransformerEncoderLayer)
from mmdet.registry import MODELS


class _TorchAttentionWithoutWeights(nn.MultiheadAttention):
    """``torch.nn.MultiheadAttention`` that returns the attention weights only when asked
    (``need_weights=True``); torch's default computes them."""

    def forward(self, *args, need_weights: bool = False, **kwargs):
        return super().forward(*args, need_weights=need_weights, **kwargs)


@MODELS.register_module()
class MultiheadAttentionWithoutWeights(MultiheadAttention):
    """mmcv's ``MultiheadAttention`` whose torch attention leaves out the attention weights.

    mmcv's module uses only the attention output of its ``torch.nn.MultiheadAttention`` but
    calls it with torch's default ``need_weights=True``, so torch computes the
    (batch, heads, queries, keys) weights explicitly (a 784 x 784 matrix per head and RoI in
    AISFormer's encoder). Without them torch runs its fused ``scaled_dot_product_attention``;
    the outputs are those of the same parameters called with ``need_weights=False``.

    Args: as mmcv's ``MultiheadAttention``; the ``torch.nn.MultiheadAttention`` (``attn``, the
    same parameters under the same names) is built once more by this class after mmcv's.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 dropout_layer: Optional[dict] = dict(type='Dropout', drop_prob=0.),
                 init_cfg: Optional[dict] = None,
                 batch_first: bool = False,
                 **kwargs) -> None:
        super().__init__(embed_dims, num_heads, attn_drop, proj_drop, dropout_layer, init_cfg,
                         batch_first, **kwargs)
        kwargs.pop('dropout', None)  # mmcv's deprecated name of attn_drop, read by mmcv above
        self.attn = _TorchAttentionWithoutWeights(embed_dims, num_heads, self.attn.dropout,
                                                  **kwargs)


def build_attention(cfg: dict) -> nn.Module:
    """The attention module of ``cfg`` from mmdet's MODELS registry (mmcv's
    ``MultiheadAttention`` when ``cfg`` names no ``type``)."""
    cfg = dict(cfg)
    cfg.setdefault('type', MultiheadAttention)
    return MODELS.build(cfg)


class RoITransformerEncoderLayer(DetrTransformerEncoderLayer):
    """mmdet's DETR encoder layer whose self-attention is built from ``self_attn_cfg``'s
    ``type`` (:func:`build_attention`)."""

    def _init_layers(self) -> None:
        self.self_attn = build_attention(self.self_attn_cfg)
        self.embed_dims = self.self_attn.embed_dims
        self.ffn = FFN(**self.ffn_cfg)
        self.norms = ModuleList(
            [build_norm_layer(self.norm_cfg, self.embed_dims)[1] for _ in range(2)])


class RoITransformerDecoderLayer(DetrTransformerDecoderLayer):
    """mmdet's DETR decoder layer whose self- and cross-attention are built from their
    configs' ``type`` (:func:`build_attention`)."""

    def _init_layers(self) -> None:
        self.self_attn = build_attention(self.self_attn_cfg)
        self.cross_attn = build_attention(self.cross_attn_cfg)
        self.embed_dims = self.self_attn.embed_dims
        self.ffn = FFN(**self.ffn_cfg)
        self.norms = ModuleList(
            [build_norm_layer(self.norm_cfg, self.embed_dims)[1] for _ in range(3)])


class RoITransformerEncoder(DetrTransformerEncoder):
    """mmdet's DETR encoder of :class:`RoITransformerEncoderLayer` layers (``layer_cfg``)."""

    def _init_layers(self) -> None:
        if self.num_cp > 0:
            raise ValueError('RoITransformerEncoder does not checkpoint its layers (num_cp)')
        self.layers = ModuleList(
            [RoITransformerEncoderLayer(**self.layer_cfg) for _ in range(self.num_layers)])
        self.embed_dims = self.layers[0].embed_dims


class RoITransformerDecoder(DetrTransformerDecoder):
    """mmdet's DETR decoder of :class:`RoITransformerDecoderLayer` layers (``layer_cfg``);
    ``post_norm_cfg=None`` leaves out its final norm (``post_norm`` is then the identity and
    has no parameters), as DETR's reference decoder without a norm."""

    def _init_layers(self) -> None:
        self.layers = ModuleList(
            [RoITransformerDecoderLayer(**self.layer_cfg) for _ in range(self.num_layers)])
        self.embed_dims = self.layers[0].embed_dims
        self.post_norm = (nn.Identity() if self.post_norm_cfg is None else
                          build_norm_layer(self.post_norm_cfg, self.embed_dims)[1])
