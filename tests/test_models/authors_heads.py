"""The authors' mask heads of AISFormer (UARK-AICV/AISFormer) and BCNet (lkeab/BCNet, and the
same layers in trqminh/aistron's ``projects/BCNet``), re-implemented independently in plain
PyTorch for the tests, with the parameter names and shapes of their Detectron2 modules.

Read in the authors' code:

- AISFormer: ``detectron2/modeling/roi_heads/aisformer/aisformer.py`` (class ``AISFormer``,
  mounted as ``roi_heads.mask_head.mask_head_model`` by ``MaskRCNNConvUpsampleHead`` of
  ``detectron2/modeling/roi_heads/mask_head.py``), its DETR layers in
  ``detectron2/layers/transformer.py`` (post-norm, no final norm of the encoder or the decoder,
  ``_reset_parameters`` commented out), ``position_encoding.py`` (``PositionEmbeddingLearned``:
  50 rows and columns) and ``mlp.py``; their config defaults (``add_config.py``):
  ``N_LAYERS=1``, ``N_HEADS=2``.
  The query embedding has 4 rows (visible, occluder, amodal, and one whose mask is not used);
  the invisible embedding is ``subtract_model(cat(amodal, visible))``; ``predictor_TR`` is built
  but not used by the forward.
- BCNet: ``detectron2/modeling/roi_heads/mask_head.py`` (``MaskRCNNConvUpsampleHead``, mounted
  as ``roi_heads.mask_head``): the occluder branch is ``boundary_fcn*`` (non-local operator
  ``*_transform_bound_bo`` + ``blocker_bound_bo`` after its second conv), the occludee branch
  ``mask_fcn*`` (``*_transform_bound`` + ``blocker_bound``) on the RoI features plus the
  occluder features; the non-local projections are 1x1 convolutions without bias, the blockers
  BatchNorm with eps 1e-4.

:data:`AISFORMER_PARAMS` and :func:`bcnet_params` give ``{Detectron2 name: shape}`` (names
relative to the prefixes :data:`AISFORMER_PREFIX`, :data:`BCNET_PREFIX`); the modules below
have exactly these parameters and buffers.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

AISFORMER_PREFIX = 'roi_heads.mask_head.mask_head_model.'
BCNET_PREFIX = 'roi_heads.mask_head.'


def aisformer_params(dims: int = 256, num_classes: int = 7, ffn: int = 2048,
                     num_layers: int = 1) -> Dict[str, Tuple[int, ...]]:
    """``{name: shape}`` of the parameters of the authors' ``AISFormer`` module (relative to
    :data:`AISFORMER_PREFIX`); ``predictor_TR`` (one channel per class) is unused."""
    params = {
        'deconv_for_TR.0.weight': (dims, dims, 2, 2), 'deconv_for_TR.0.bias': (dims, ),
        'mask_feat_learner_TR.weight': (dims, dims, 3, 3), 'mask_feat_learner_TR.bias': (dims, ),
        'predictor_TR.weight': (num_classes, 1, 1, 1), 'predictor_TR.bias': (num_classes, ),
        'pixel_embed.weight': (dims, dims, 1, 1), 'pixel_embed.bias': (dims, ),
        'norm_rois.weight': (dims, ), 'norm_rois.bias': (dims, ),
        'positional_encoding.row_embed.weight': (50, dims // 2),
        'positional_encoding.col_embed.weight': (50, dims // 2),
        'query_embed.weight': (4, dims),
        'subtract_model.layers.0.weight': (dims, 2 * dims),
        'subtract_model.layers.0.bias': (dims, ),
        'subtract_model.layers.1.weight': (dims, dims), 'subtract_model.layers.1.bias': (dims, ),
    }
    for i in range(3):
        params.update({f'mask_embed.layers.{i}.weight': (dims, dims),
                       f'mask_embed.layers.{i}.bias': (dims, )})

    def attention(prefix: str) -> dict:
        return {f'{prefix}.in_proj_weight': (3 * dims, dims),
                f'{prefix}.in_proj_bias': (3 * dims, ),
                f'{prefix}.out_proj.weight': (dims, dims), f'{prefix}.out_proj.bias': (dims, )}

    for part, attentions, norms in (('transformer_encoder', ('self_attn', ), 2),
                                    ('transformer_decoder', ('self_attn', 'multihead_attn'), 3)):
        for layer in range(num_layers):
            prefix = f'{part}.layers.{layer}'
            for name in attentions:
                params.update(attention(f'{prefix}.{name}'))
            params.update({f'{prefix}.linear1.weight': (ffn, dims),
                           f'{prefix}.linear1.bias': (ffn, ),
                           f'{prefix}.linear2.weight': (dims, ffn),
                           f'{prefix}.linear2.bias': (dims, )})
            for n in range(1, norms + 1):
                params.update({f'{prefix}.norm{n}.weight': (dims, ),
                               f'{prefix}.norm{n}.bias': (dims, )})
    return params


#: The parameters of AISFormer's R50-FPN KINS model (7 classes).
AISFORMER_PARAMS = aisformer_params()


def bcnet_params(in_channels: int = 256, dims: int = 256, num_classes: int = 7,
                 num_convs: int = 4) -> Dict[str, Tuple[int, ...]]:
    """``{name: shape}`` of the parameters and buffers of the authors' BCNet mask head (relative
    to :data:`BCNET_PREFIX`; no norm in the convolutions, as their configs)."""
    params = {}
    for branch in ('mask_fcn', 'boundary_fcn'):
        for i in range(1, num_convs + 1):
            params.update({f'{branch}{i}.weight': (dims, in_channels if i == 1 else dims, 3, 3),
                           f'{branch}{i}.bias': (dims, )})
    for name in ('deconv', 'bo_deconv', 'boundary_deconv', 'boundary_deconv_bo'):
        params.update({f'{name}.weight': (dims, dims, 2, 2), f'{name}.bias': (dims, )})
    for suffix in ('bound_bo', 'bound'):
        for name in ('query', 'key', 'value', 'output'):
            params[f'{name}_transform_{suffix}.weight'] = (in_channels, in_channels, 1, 1)
        params.update({f'blocker_{suffix}.{p}': (in_channels, )
                       for p in ('weight', 'bias', 'running_mean', 'running_var')})
        params[f'blocker_{suffix}.num_batches_tracked'] = ()
    for name in ('predictor', 'predictor_bo', 'boundary_predictor', 'boundary_predictor_bo'):
        params.update({f'{name}.weight': (num_classes, dims, 1, 1),
                       f'{name}.bias': (num_classes, )})
    return params


class _MLP(nn.Module):

    def __init__(self, dims_in: int, dims: int, num_layers: int) -> None:
        super().__init__()
        sizes = [dims_in] + [dims] * num_layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x


class _PositionEmbedding(nn.Module):

    def __init__(self, dims: int) -> None:
        super().__init__()
        self.row_embed = nn.Embedding(50, dims // 2)
        self.col_embed = nn.Embedding(50, dims // 2)

    def forward(self, height: int, width: int) -> Tensor:
        """(height * width, dims): the column's embedding, then the row's, of each pixel."""
        cols = self.col_embed.weight[:width][None].expand(height, -1, -1)
        rows = self.row_embed.weight[:height][:, None].expand(-1, width, -1)
        return torch.cat([cols, rows], dim=-1).flatten(0, 1)


class _EncoderLayer(nn.Module):
    """Post-norm DETR encoder layer on (length, batch, dims) sequences."""

    def __init__(self, dims: int, heads: int, ffn: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dims, heads, dropout=dropout)
        self.linear1, self.linear2 = nn.Linear(dims, ffn), nn.Linear(ffn, dims)
        self.norm1, self.norm2 = nn.LayerNorm(dims), nn.LayerNorm(dims)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, pos: Tensor) -> Tensor:
        x = self.norm1(x + self.drop(self.self_attn(x + pos, x + pos, x)[0]))
        return self.norm2(x + self.drop(self.linear2(self.drop(F.relu(self.linear1(x))))))


class _DecoderLayer(nn.Module):
    """Post-norm DETR decoder layer on (length, batch, dims) sequences."""

    def __init__(self, dims: int, heads: int, ffn: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dims, heads, dropout=dropout)
        self.multihead_attn = nn.MultiheadAttention(dims, heads, dropout=dropout)
        self.linear1, self.linear2 = nn.Linear(dims, ffn), nn.Linear(ffn, dims)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(dims) for _ in range(3))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, memory: Tensor, query_pos: Tensor, pos: Tensor) -> Tensor:
        x = self.norm1(x + self.drop(self.self_attn(x + query_pos, x + query_pos, x)[0]))
        x = self.norm2(x + self.drop(
            self.multihead_attn(x + query_pos, memory + pos, memory)[0]))
        return self.norm3(x + self.drop(self.linear2(self.drop(F.relu(self.linear1(x))))))


class _Layers(nn.Module):

    def __init__(self, layers) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)


class AuthorsAISFormer(nn.Module):
    """The authors' AISFormer mask head (parameters :func:`aisformer_params`).

    ``forward`` returns the (N, 1, 28, 28) logits of the visible, occluder, amodal and
    invisible masks, in the authors' order of outputs.
    """

    def __init__(self, dims: int = 256, num_classes: int = 7, heads: int = 2, ffn: int = 2048,
                 num_layers: int = 1, dropout: float = 0.1) -> None:
        super().__init__()
        self.deconv_for_TR = nn.Sequential(nn.ConvTranspose2d(dims, dims, 2, 2), nn.ReLU())
        self.mask_feat_learner_TR = nn.Conv2d(dims, dims, 3, padding=1)
        self.predictor_TR = nn.Conv2d(1, num_classes, 1)
        self.pixel_embed = nn.Conv2d(dims, dims, 1)
        self.mask_embed = _MLP(dims, dims, 3)
        self.subtract_model = _MLP(2 * dims, dims, 2)
        self.norm_rois = nn.LayerNorm(dims)
        self.positional_encoding = _PositionEmbedding(dims)
        self.transformer_encoder = _Layers(
            [_EncoderLayer(dims, heads, ffn, dropout) for _ in range(num_layers)])
        self.transformer_decoder = _Layers(
            [_DecoderLayer(dims, heads, ffn, dropout) for _ in range(num_layers)])
        self.query_embed = nn.Embedding(4, dims)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        x = F.relu(self.mask_feat_learner_TR(x))
        x = self.deconv_for_TR(x)  # short range, (N, C, 28, 28)
        num, dims, height, width = x.shape
        pos = self.positional_encoding(height, width)[:, None]  # (HW, 1, C)
        memory = x.flatten(2).permute(2, 0, 1)  # (HW, N, C)
        for layer in self.transformer_encoder.layers:
            memory = layer(memory, pos)
        queries = self.query_embed.weight[:, None].expand(-1, num, -1)  # (4, N, C)
        decoded = torch.zeros_like(queries)
        for layer in self.transformer_decoder.layers:
            decoded = layer(decoded, memory, queries, pos)
        embeds = self.mask_embed(decoded.transpose(0, 1))  # (N, 4, C)
        invisible = self.subtract_model(torch.cat([embeds[:, 2], embeds[:, 0]], dim=1))
        embeds = torch.cat([embeds, invisible[:, None]], dim=1)  # (N, 5, C)
        pixels = memory.permute(1, 2, 0).reshape(num, dims, height, width) + x
        pixels = self.norm_rois(pixels.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        logits = torch.einsum('nqc,nchw->nqhw', embeds, self.pixel_embed(pixels))
        visible, occluder, amodal, invisible = (logits[:, i:i + 1] for i in (0, 1, 2, 4))
        return visible, occluder, amodal, invisible


class AuthorsBCNet(nn.Module):
    """The authors' BCNet mask head (parameters :func:`bcnet_params`).

    ``forward`` returns the (N, K, 28, 28) logits of the amodal mask, amodal boundary, occluder
    mask and occluder boundary (the authors' ``mask, boundary, mask_bo, boundary_bo``).
    """

    def __init__(self, in_channels: int = 256, dims: int = 256, num_classes: int = 7,
                 num_convs: int = 4) -> None:
        super().__init__()
        for branch in ('mask_fcn', 'boundary_fcn'):
            for i in range(1, num_convs + 1):
                self.add_module(f'{branch}{i}', nn.Conv2d(in_channels if i == 1 else dims, dims,
                                                          3, padding=1))
        for name in ('deconv', 'bo_deconv', 'boundary_deconv', 'boundary_deconv_bo'):
            self.add_module(name, nn.ConvTranspose2d(dims, dims, 2, 2))
        for suffix in ('bound_bo', 'bound'):
            for name in ('query', 'key', 'value', 'output'):
                self.add_module(f'{name}_transform_{suffix}',
                                nn.Conv2d(in_channels, in_channels, 1, bias=False))
            self.add_module(f'blocker_{suffix}', nn.BatchNorm2d(in_channels, eps=1e-4))
        for name in ('predictor', 'predictor_bo', 'boundary_predictor', 'boundary_predictor_bo'):
            self.add_module(name, nn.Conv2d(dims, num_classes, 1))
        self.num_convs = num_convs

    def _nonlocal(self, x: Tensor, suffix: str) -> Tensor:
        num, channels = x.shape[:2]
        layer = lambda name: getattr(self, f'{name}_transform_{suffix}')  # noqa: E731
        query = layer('query')(x).flatten(2).transpose(1, 2)  # (N, HW, C)
        key = layer('key')(x).flatten(2)  # (N, C, HW)
        value = layer('value')(x).flatten(2).transpose(1, 2)  # (N, HW, C)
        weights = torch.softmax(query @ key / channels ** 0.5, dim=-1)
        relation = (weights @ value).transpose(1, 2).reshape(x.shape)
        return x + getattr(self, f'blocker_{suffix}')(layer('output')(relation))

    def _branch(self, x: Tensor, name: str, suffix: str) -> Tensor:
        for i in range(1, self.num_convs + 1):
            x = F.relu(getattr(self, f'{name}{i}')(x))
            if i == 2 and len(x):
                x = self._nonlocal(x, suffix)
        return x

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        occluder = self._branch(x, 'boundary_fcn', 'bound_bo')
        occludee = self._branch(x + occluder, 'mask_fcn', 'bound')

        def out(deconv: str, predictor: str, features: Tensor) -> Tensor:
            return getattr(self, predictor)(F.relu(getattr(self, deconv)(features)))

        return (out('deconv', 'predictor', occludee),
                out('boundary_deconv', 'boundary_predictor', occludee),
                out('bo_deconv', 'predictor_bo', occluder),
                out('boundary_deconv_bo', 'boundary_predictor_bo', occluder))


def randomized(module: nn.Module, seed: int = 0, scale: Optional[float] = None) -> nn.Module:
    """``module`` with every parameter and float buffer drawn at random (BatchNorm variances
    positive), so that no layer is left at an identity or zero initialisation."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if not tensor.is_floating_point():
                continue
            values = torch.randn(tensor.shape, generator=gen)
            if name.endswith('running_var'):
                values = values.abs() + 0.5
            elif scale is not None:
                values = values * scale
            else:
                values = values / max(1, tensor[0].numel()) ** 0.5 if tensor.dim() > 1 else values
            tensor.copy_(values)
    return module
