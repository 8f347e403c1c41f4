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

- Detectron2's R-50-FPN Mask R-CNN around these heads (facebookresearch/detectron2):
  ``detectron2/modeling/backbone/resnet.py`` (``BasicStem``: ``stem.conv1``, 7x7, no bias,
  frozen BatchNorm ``norm``; stages ``res2``..``res5`` of ``BasicBlock`` for depth 18 or
  ``BottleneckBlock`` for depth 50, ``shortcut`` where the channels change), ``fpn.py``
  (``fpn_lateral{2..5}`` 1x1, ``fpn_output{2..5}`` 3x3, with bias), ``proposal_generator/rpn.py``
  (``StandardRPNHead``: ``conv``, ``objectness_logits``, ``anchor_deltas``),
  ``roi_heads/box_head.py`` (``FastRCNNConvFCHead``: ``fc1``, ``fc2``), ``fast_rcnn.py``
  (``FastRCNNOutputLayers``: ``cls_score`` with the background last, ``bbox_pred``) and
  ``mask_head.py`` (``MaskRCNNConvUpsampleHead``: ``mask_fcn1..4``, ``deconv``, ``predictor``).

:data:`AISFORMER_PARAMS` and :func:`bcnet_params` give ``{Detectron2 name: shape}`` (names
relative to the prefixes :data:`AISFORMER_PREFIX`, :data:`BCNET_PREFIX`); the modules below
have exactly these parameters and buffers. :func:`detectron2_state` puts a head with random
weights into a whole Detectron2 state dict (:func:`rcnn_params`), :func:`save_pth` and
:func:`save_pkl` write it as Detectron2's trainer and model zoo do, and
:func:`authors_mask_head` builds the authors' head back from such a state dict.
"""
import pickle
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

AISFORMER_PREFIX = 'roi_heads.mask_head.mask_head_model.'
BCNET_PREFIX = 'roi_heads.mask_head.'
#: Detectron2's mask head (Mask R-CNN's, and BCNet's, which replaces it).
MASK_PREFIX = 'roi_heads.mask_head.'


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


def _random_values(name: str, shape, gen: torch.Generator,
                   scale: Optional[float] = None) -> Tensor:
    """Random values for the tensor ``name``: BatchNorm variances positive, weights of more than
    one dimension scaled by their fan-in, everything times ``scale`` if given."""
    values = torch.randn(shape, generator=gen)
    if name.endswith('running_var'):
        return values.abs() + 0.5
    if scale is not None:
        return values * scale
    fan_in = 1
    for size in tuple(shape)[1:]:
        fan_in *= size
    return values / fan_in ** 0.5 if len(shape) > 1 else values


def randomized(module: nn.Module, seed: int = 0, scale: Optional[float] = None) -> nn.Module:
    """``module`` with every parameter and float buffer drawn at random (BatchNorm variances
    positive), so that no layer is left at an identity or zero initialisation."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(_random_values(name, tensor.shape, gen, scale))
    return module


def rcnn_params(depth: int = 50, stem: int = 64, fpn: int = 256, fc: int = 1024,
                num_classes: int = 7, num_anchors: int = 3) -> Dict[str, Tuple[int, ...]]:
    """``{name: shape}`` of Detectron2's ResNet-FPN R-CNN without its mask head: backbone
    (``backbone.bottom_up``, frozen BatchNorm without step counter), FPN, RPN, box head and box
    predictor. Bottleneck widths are a quarter of a stage's output, as Detectron2's R-50."""
    params = {}

    def conv(name: str, out: int, inp: int, k: int, bias: bool = True, norm: bool = False):
        params[name + '.weight'] = (out, inp, k, k)
        if bias:
            params[name + '.bias'] = (out, )
        if norm:
            params.update({f'{name}.norm.{p}': (out, )
                           for p in ('weight', 'bias', 'running_mean', 'running_var')})

    blocks = {18: (2, 2, 2, 2), 50: (3, 4, 6, 3)}[depth]
    expansion = 1 if depth < 50 else 4
    conv('backbone.bottom_up.stem.conv1', stem, 3, 7, bias=False, norm=True)
    inp, widths = stem, []
    for stage, count in enumerate(blocks, start=2):
        width = stem * 2**(stage - 2)
        out = width * expansion
        for i in range(count):
            name = f'backbone.bottom_up.res{stage}.{i}'
            if inp != out:
                conv(name + '.shortcut', out, inp, 1, bias=False, norm=True)
            convs = ([(width, inp, 3), (out, width, 3)] if expansion == 1 else
                     [(width, inp, 1), (width, width, 3), (out, width, 1)])
            for j, (o, c, k) in enumerate(convs, start=1):
                conv(f'{name}.conv{j}', o, c, k, bias=False, norm=True)
            inp = out
        widths.append(out)
    for level, channels in zip(range(2, 6), widths):
        conv(f'backbone.fpn_lateral{level}', fpn, channels, 1)
        conv(f'backbone.fpn_output{level}', fpn, fpn, 3)
    conv('proposal_generator.rpn_head.conv', fpn, fpn, 3)
    conv('proposal_generator.rpn_head.objectness_logits', num_anchors, fpn, 1)
    conv('proposal_generator.rpn_head.anchor_deltas', 4 * num_anchors, fpn, 1)
    for name, out, inp in (('box_head.fc1', fc, fpn * 7 * 7), ('box_head.fc2', fc, fc),
                           ('box_predictor.cls_score', num_classes + 1, fc),
                           ('box_predictor.bbox_pred', 4 * num_classes, fc)):
        params.update({f'roi_heads.{name}.weight': (out, inp), f'roi_heads.{name}.bias': (out, )})
    return params


def mask_rcnn_params(inp: int = 256, dims: int = 256,
                     num_classes: int = 7) -> Dict[str, Tuple[int, ...]]:
    """``{name: shape}`` of ``MaskRCNNConvUpsampleHead`` (relative to :data:`MASK_PREFIX`):
    ``mask_fcn1..4`` (3x3), ``deconv`` (2x2 transposed), ``predictor`` (1x1, one per class)."""
    params = {}
    for k in range(1, 5):
        params.update({f'mask_fcn{k}.weight': (dims, inp if k == 1 else dims, 3, 3),
                       f'mask_fcn{k}.bias': (dims, )})
    params.update({'deconv.weight': (dims, dims, 2, 2), 'deconv.bias': (dims, ),
                   'predictor.weight': (num_classes, dims, 1, 1),
                   'predictor.bias': (num_classes, )})
    return params


def detectron2_state(arch: str, depth: int = 18, stem: int = 32, fpn: int = 64, fc: int = 256,
                     mask_dims: int = 32, num_classes: int = 6, ffn: int = 512,
                     seed: int = 0) -> 'OrderedDict[str, Tensor]':
    """A Detectron2 state dict of ``arch`` (``'mask_rcnn'``, ``'bcnet'``, ``'aisformer'``) with
    random values; the defaults are the widths of mmorcnn's tiny R-18 models (BCNet and
    AISFormer use ``fpn`` channels in their heads, as the authors' code requires)."""
    gen = torch.Generator().manual_seed(seed)
    shapes = rcnn_params(depth, stem, fpn, fc, num_classes)
    if arch == 'mask_rcnn':
        shapes.update({MASK_PREFIX + k: v
                       for k, v in mask_rcnn_params(fpn, mask_dims, num_classes).items()})
    state = OrderedDict((name, _random_values(name, shape, gen)) for name, shape in shapes.items())
    if arch == 'bcnet':
        head, prefix = AuthorsBCNet(fpn, fpn, num_classes), BCNET_PREFIX
    elif arch == 'aisformer':
        head, prefix = AuthorsAISFormer(fpn, num_classes, ffn=ffn), AISFORMER_PREFIX
    else:
        return state
    for name, value in randomized(head, seed).state_dict().items():
        state[prefix + name] = value
    return state


def authors_mask_head(state: Dict[str, Tensor]) -> nn.Module:
    """The authors' BCNet or AISFormer mask head (eval mode) with the weights of a Detectron2
    state dict, its widths read from the tensors' shapes; loaded with ``strict=True``."""
    if AISFORMER_PREFIX + 'query_embed.weight' in state:
        prefix = AISFORMER_PREFIX
        dims = state[prefix + 'query_embed.weight'].shape[1]
        head = AuthorsAISFormer(dims, state[prefix + 'predictor_TR.weight'].shape[0],
                                ffn=state[prefix + 'transformer_encoder.layers.0.linear1.weight']
                                .shape[0])
    else:
        prefix = BCNET_PREFIX
        dims, in_channels = state[prefix + 'mask_fcn1.weight'].shape[:2]
        head = AuthorsBCNet(in_channels, dims, state[prefix + 'predictor.weight'].shape[0])
    head.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)},
                         strict=True)
    return head.eval()


def save_pth(state: Dict[str, Tensor], path: str) -> None:
    """As Detectron2's trainer: ``{'model': state_dict, ...}`` with torch.save."""
    torch.save({'model': state, 'iteration': 47999}, path)


def save_pkl(state: Dict[str, Tensor], path: str, **extra) -> None:
    """As Detectron2's model zoo: a pickle of numpy arrays under ``model``."""
    with open(path, 'wb') as f:
        pickle.dump(dict(model={k: v.numpy() for k, v in state.items()},
                         __author__='Detectron2 Model Zoo', **extra), f)


def _conv(sd, name: str, x: Tensor, padding: int = 0) -> Tensor:
    return F.conv2d(x, sd[name + '.weight'], sd.get(name + '.bias'), padding=padding)


def mask_rcnn_logits(sd: Dict[str, Tensor], x: Tensor) -> Tensor:
    """``MaskRCNNConvUpsampleHead.layers`` on RoI features (N, C, 14, 14): four 3x3 conv + ReLU,
    deconv + ReLU, predictor."""
    for k in range(1, 5):
        x = F.relu(_conv(sd, f'{MASK_PREFIX}mask_fcn{k}', x, padding=1))
    x = F.conv_transpose2d(x, sd[MASK_PREFIX + 'deconv.weight'], sd[MASK_PREFIX + 'deconv.bias'],
                           stride=2)
    return _conv(sd, MASK_PREFIX + 'predictor', F.relu(x))


def box_head_scores(sd: Dict[str, Tensor], x: Tensor) -> Tensor:
    """``FastRCNNConvFCHead`` (flatten, fc1 + ReLU, fc2 + ReLU) and ``cls_score``, on RoI
    features (N, C, 7, 7)."""
    x = x.flatten(1)
    for k in (1, 2):
        x = F.relu(F.linear(x, sd[f'roi_heads.box_head.fc{k}.weight'],
                            sd[f'roi_heads.box_head.fc{k}.bias']))
    return F.linear(x, sd['roi_heads.box_predictor.cls_score.weight'],
                    sd['roi_heads.box_predictor.cls_score.bias'])
