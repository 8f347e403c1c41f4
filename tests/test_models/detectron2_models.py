"""Detectron2 checkpoints as the authors' code names them, with random values, and the authors'
mask heads' forward written out with torch's functional ops: the independent side of the tests of
mmorcnn.models.detectron2_to_mmorcnn.

Names and shapes, each as read in the file named beside it (Detectron2: facebookresearch/
detectron2; BCNet: trqminh/aistron; AISFormer: UARK-AICV/AISFormer). Widths are arguments so
that the tests can use the tiny models; the authors' R-50 models have 256-channel FPN and heads,
1024-unit box head, 2048-unit transformer feed-forward layers.
"""
import pickle
from collections import OrderedDict
from typing import Dict, Sequence

import torch
import torch.nn.functional as F

Tensor = torch.Tensor
MASK = 'roi_heads.mask_head.'
AISFORMER = MASK + 'mask_head_model.'


class _Random:
    """Random tensors of the shapes the authors' modules register, in registration order."""

    def __init__(self, seed: int) -> None:
        self.gen = torch.Generator().manual_seed(seed)
        self.state: 'OrderedDict[str, Tensor]' = OrderedDict()

    def tensor(self, name: str, *shape: int, scale: float = 0.1) -> None:
        self.state[name] = torch.randn(*shape, generator=self.gen) * scale

    def conv(self, name: str, out: int, inp: int, k: int, bias: bool = True) -> None:
        """torch.nn.Conv2d (detectron2.layers.Conv2d): weight (out, in, k, k), bias (out)."""
        self.tensor(name + '.weight', out, inp, k, k, scale=(inp * k * k)**-0.5)
        if bias:
            self.tensor(name + '.bias', out)

    def deconv(self, name: str, inp: int, out: int, k: int = 2) -> None:
        """torch.nn.ConvTranspose2d: weight (in, out, k, k), bias (out)."""
        self.tensor(name + '.weight', inp, out, k, k, scale=inp**-0.5)
        self.tensor(name + '.bias', out)

    def linear(self, name: str, out: int, inp: int) -> None:
        self.tensor(name + '.weight', out, inp, scale=inp**-0.5)
        self.tensor(name + '.bias', out)

    def norm(self, name: str, channels: int, frozen: bool = True) -> None:
        """detectron2.layers.FrozenBatchNorm2d (weight, bias, running_mean, running_var), or with
        ``frozen=False`` torch.nn.BatchNorm2d, which also keeps num_batches_tracked."""
        self.state[name + '.weight'] = 1 + 0.1 * torch.randn(channels, generator=self.gen)
        self.tensor(name + '.bias', channels)
        self.tensor(name + '.running_mean', channels)
        self.state[name + '.running_var'] = 0.5 + torch.rand(channels, generator=self.gen)
        if not frozen:
            self.state[name + '.num_batches_tracked'] = torch.tensor(1000)

    def layer_norm(self, name: str, channels: int) -> None:
        self.state[name + '.weight'] = 1 + 0.1 * torch.randn(channels, generator=self.gen)
        self.tensor(name + '.bias', channels)


def resnet_fpn_rcnn(r: _Random, depth: int, stem: int, fpn: int, fc: int, num_classes: int,
                    num_anchors: int = 3) -> None:
    """Detectron2's ResNet-FPN Mask R-CNN without its mask head.

    - detectron2/modeling/backbone/resnet.py: ``BasicStem`` (``stem.conv1``, 7x7, no bias, frozen
      BN ``norm``); stages ``res2``..``res5`` of ``BasicBlock`` (depth 18: ``conv1``, ``conv2``
      3x3) or ``BottleneckBlock`` (depth 50: ``conv1`` 1x1, ``conv2`` 3x3, ``conv3`` 1x1, bottleneck
      width = stage width / 4); ``shortcut`` (1x1) where the channels change.
    - detectron2/modeling/backbone/fpn.py: ``fpn_lateral{2..5}`` (1x1), ``fpn_output{2..5}`` (3x3),
      with bias (no norm).
    - detectron2/modeling/proposal_generator/rpn.py ``StandardRPNHead``: ``conv`` 3x3,
      ``objectness_logits`` (A), ``anchor_deltas`` (4 A).
    - detectron2/modeling/roi_heads/box_head.py ``FastRCNNConvFCHead``: ``fc1`` (7 x 7 x C),
      ``fc2``; fast_rcnn.py ``FastRCNNOutputLayers``: ``cls_score`` (K + 1, background last),
      ``bbox_pred`` (4 K).
    """
    blocks = {18: (2, 2, 2, 2), 50: (3, 4, 6, 3)}[depth]
    expansion = 1 if depth < 50 else 4
    r.conv('backbone.bottom_up.stem.conv1', stem, 3, 7, bias=False)
    r.norm('backbone.bottom_up.stem.conv1.norm', stem)
    inp, widths = stem, []
    for stage, count in enumerate(blocks, start=2):
        width = stem * 2**(stage - 2)
        out = width * expansion
        for i in range(count):
            name = f'backbone.bottom_up.res{stage}.{i}'
            if inp != out:
                r.conv(name + '.shortcut', out, inp, 1, bias=False)
                r.norm(name + '.shortcut.norm', out)
            convs = ([(width, inp, 3), (out, width, 3)] if expansion == 1 else
                     [(width, inp, 1), (width, width, 3), (out, width, 1)])
            for j, (o, c, k) in enumerate(convs, start=1):
                r.conv(f'{name}.conv{j}', o, c, k, bias=False)
                r.norm(f'{name}.conv{j}.norm', o)
            inp = out
        widths.append(out)
    for level, channels in zip(range(2, 6), widths):
        r.conv(f'backbone.fpn_lateral{level}', fpn, channels, 1)
        r.conv(f'backbone.fpn_output{level}', fpn, fpn, 3)
    r.conv('proposal_generator.rpn_head.conv', fpn, fpn, 3)
    r.conv('proposal_generator.rpn_head.objectness_logits', num_anchors, fpn, 1)
    r.conv('proposal_generator.rpn_head.anchor_deltas', 4 * num_anchors, fpn, 1)
    r.linear('roi_heads.box_head.fc1', fc, fpn * 7 * 7)
    r.linear('roi_heads.box_head.fc2', fc, fc)
    r.linear('roi_heads.box_predictor.cls_score', num_classes + 1, fc)
    r.linear('roi_heads.box_predictor.bbox_pred', 4 * num_classes, fc)


def mask_rcnn_head(r: _Random, inp: int, dims: int, num_classes: int) -> None:
    """detectron2/modeling/roi_heads/mask_head.py ``MaskRCNNConvUpsampleHead``: ``mask_fcn1..4``
    (3x3, bias), ``deconv`` (2x2 transposed, stride 2), ``predictor`` (1x1, K)."""
    for k in range(1, 5):
        r.conv(f'{MASK}mask_fcn{k}', dims, inp if k == 1 else dims, 3)
    r.deconv(MASK + 'deconv', dims, dims)
    r.conv(MASK + 'predictor', num_classes, dims, 1)


def bcnet_head(r: _Random, channels: int, num_classes: int) -> None:
    """trqminh/aistron projects/BCNet/bcnet/mask_head.py ``BCNet.__init__`` (input channels =
    conv dims): ``mask_fcn1..4`` and ``boundary_fcn1..4`` (3x3, bias), ``deconv``,
    ``boundary_deconv_bo``, ``boundary_deconv``, ``bo_deconv`` (2x2 transposed), the
    ``{query,key,value,output}_transform_bound{_bo,}`` (1x1, no bias), ``blocker_bound{_bo,}``
    (nn.BatchNorm2d, eps 1e-4), ``predictor``, ``predictor_bo``, ``boundary_predictor_bo``,
    ``boundary_predictor`` (1x1, K)."""
    for branch in ('mask_fcn', 'boundary_fcn'):
        for k in range(1, 5):
            r.conv(f'{MASK}{branch}{k}', channels, channels, 3)
    for name in ('deconv', 'boundary_deconv_bo', 'boundary_deconv', 'bo_deconv'):
        r.deconv(MASK + name, channels, channels)
    for suffix in ('_bo', ''):
        for kind in ('query', 'key', 'value', 'output'):
            r.conv(f'{MASK}{kind}_transform_bound{suffix}', channels, channels, 1, bias=False)
    for suffix in ('_bo', ''):
        r.norm(f'{MASK}blocker_bound{suffix}', channels, frozen=False)
    for name in ('predictor', 'predictor_bo', 'boundary_predictor_bo', 'boundary_predictor'):
        r.conv(MASK + name, num_classes, channels, 1)


def aisformer_head(r: _Random, dims: int, num_classes: int, feedforward: int,
                   num_layers: int = 1) -> None:
    """UARK-AICV/AISFormer detectron2/modeling/roi_heads/aisformer/aisformer.py
    ``AISFormer.__init__``, under ``mask_head.mask_head_model`` (mask_head.py): ``deconv_for_TR.0``
    (2x2 transposed), ``mask_feat_learner_TR`` (3x3), ``predictor_TR`` (1x1 from 1 channel to K,
    unused by the forward), ``pixel_embed`` (1x1), ``mask_embed`` (MLP, 3 layers),
    ``subtract_model`` (MLP 2 E -> E, 2 layers), ``norm_rois`` (LayerNorm),
    ``positional_encoding.{row,col}_embed`` (detectron2/layers/position_encoding.py
    ``PositionEmbeddingLearned``: nn.Embedding(50, E / 2)), ``transformer_encoder.layers.i``
    (detectron2/layers/transformer.py ``TransformerEncoderLayer``: ``self_attn``
    nn.MultiheadAttention, ``linear1``, ``linear2``, ``norm1``, ``norm2``),
    ``transformer_decoder.layers.i`` (``self_attn``, ``multihead_attn``, ``linear1``, ``linear2``,
    ``norm1..3``; no final norm), ``query_embed`` (nn.Embedding(4, E))."""
    a = AISFORMER
    r.deconv(a + 'deconv_for_TR.0', dims, dims)
    r.conv(a + 'mask_feat_learner_TR', dims, dims, 3)
    r.conv(a + 'predictor_TR', num_classes, 1, 1)
    r.conv(a + 'pixel_embed', dims, dims, 1)
    for i in range(3):
        r.linear(f'{a}mask_embed.layers.{i}', dims, dims)
    r.linear(a + 'subtract_model.layers.0', dims, 2 * dims)
    r.linear(a + 'subtract_model.layers.1', dims, dims)
    r.layer_norm(a + 'norm_rois', dims)
    r.tensor(a + 'positional_encoding.row_embed.weight', 50, dims // 2, scale=1.)
    r.tensor(a + 'positional_encoding.col_embed.weight', 50, dims // 2, scale=1.)

    def attention(name: str) -> None:
        r.tensor(name + '.in_proj_weight', 3 * dims, dims, scale=dims**-0.5)
        r.tensor(name + '.in_proj_bias', 3 * dims)
        r.linear(name + '.out_proj', dims, dims)

    for i in range(num_layers):
        layer = f'{a}transformer_encoder.layers.{i}.'
        attention(layer + 'self_attn')
        r.linear(layer + 'linear1', feedforward, dims)
        r.linear(layer + 'linear2', dims, feedforward)
        r.layer_norm(layer + 'norm1', dims)
        r.layer_norm(layer + 'norm2', dims)
    for i in range(num_layers):
        layer = f'{a}transformer_decoder.layers.{i}.'
        attention(layer + 'self_attn')
        attention(layer + 'multihead_attn')
        r.linear(layer + 'linear1', feedforward, dims)
        r.linear(layer + 'linear2', dims, feedforward)
        for n in (1, 2, 3):
            r.layer_norm(f'{layer}norm{n}', dims)
    r.tensor(a + 'query_embed.weight', 4, dims, scale=1.)


def detectron2_state(arch: str, depth: int = 18, stem: int = 32, fpn: int = 64, fc: int = 256,
                     mask_dims: int = 32, num_classes: int = 6, feedforward: int = 512,
                     seed: int = 0) -> 'OrderedDict[str, Tensor]':
    """A Detectron2 state dict of ``arch`` (``'mask_rcnn'``, ``'bcnet'``, ``'aisformer'``) with
    random values; the defaults are the widths of mmorcnn's tiny R-18 models (BCNet and AISFormer
    use ``fpn`` channels in their heads, as the authors' code requires)."""
    r = _Random(seed)
    resnet_fpn_rcnn(r, depth, stem, fpn, fc, num_classes)
    if arch == 'mask_rcnn':
        mask_rcnn_head(r, fpn, mask_dims, num_classes)
    elif arch == 'bcnet':
        bcnet_head(r, fpn, num_classes)
    else:
        aisformer_head(r, fpn, num_classes, feedforward)
    return r.state


def save_pth(state: Dict[str, Tensor], path: str) -> None:
    """As Detectron2's trainer: ``{'model': state_dict, ...}`` with torch.save."""
    torch.save({'model': state, 'iteration': 47999}, path)


def save_pkl(state: Dict[str, Tensor], path: str, **extra) -> None:
    """As Detectron2's model zoo: a pickle of numpy arrays under ``model``."""
    with open(path, 'wb') as f:
        pickle.dump(dict(model={k: v.numpy() for k, v in state.items()},
                         __author__='Detectron2 Model Zoo', **extra), f)


# The authors' forward passes (eval mode), on RoI features x of shape (N, C, 14, 14).

def _conv(sd, name: str, x: Tensor, padding: int = 0) -> Tensor:
    return F.conv2d(x, sd[name + '.weight'], sd.get(name + '.bias'), padding=padding)


def _deconv(sd, name: str, x: Tensor) -> Tensor:
    return F.conv_transpose2d(x, sd[name + '.weight'], sd[name + '.bias'], stride=2)


def mask_rcnn_logits(sd, x: Tensor) -> Tensor:
    """MaskRCNNConvUpsampleHead.layers: four 3x3 conv + ReLU, deconv + ReLU, predictor."""
    for k in range(1, 5):
        x = F.relu(_conv(sd, f'{MASK}mask_fcn{k}', x, padding=1))
    return _conv(sd, MASK + 'predictor', F.relu(_deconv(sd, MASK + 'deconv', x)))


def box_head_scores(sd, x: Tensor) -> Tensor:
    """FastRCNNConvFCHead (flatten, fc1 + ReLU, fc2 + ReLU) and cls_score, on (N, C, 7, 7)."""
    x = x.flatten(1)
    for k in (1, 2):
        x = F.relu(F.linear(x, sd[f'roi_heads.box_head.fc{k}.weight'],
                            sd[f'roi_heads.box_head.fc{k}.bias']))
    return F.linear(x, sd['roi_heads.box_predictor.cls_score.weight'],
                    sd['roi_heads.box_predictor.cls_score.bias'])


def _bcnet_relation(sd, x: Tensor, suffix: str) -> Tensor:
    """BCNet.layers' non-local block after the second conv of a branch."""
    b, c, h, w = x.shape
    name = MASK + '{}_transform_bound' + suffix
    query = _conv(sd, name.format('query'), x).view(b, c, -1).transpose(1, 2)
    key = _conv(sd, name.format('key'), x).view(b, c, -1)
    value = _conv(sd, name.format('value'), x).view(b, c, -1).transpose(1, 2)
    weights = F.softmax(torch.matmul(query, key) * (1.0 / c**0.5), dim=-1)
    relation = torch.matmul(weights, value).transpose(1, 2).reshape(b, c, h, w)
    relation = _conv(sd, name.format('output'), relation)
    blocker = MASK + 'blocker_bound' + suffix
    relation = F.batch_norm(relation, sd[blocker + '.running_mean'], sd[blocker + '.running_var'],
                            sd[blocker + '.weight'], sd[blocker + '.bias'], training=False,
                            eps=1e-4)
    return x + relation


def bcnet_logits(sd, x: Tensor) -> Dict[str, Tensor]:
    """BCNet.layers: the occluder branch (boundary_fcn*), its features added to the input of the
    occludee branch (mask_fcn*); four deconv + predictor outputs."""
    x_ori = x
    for k in range(1, 5):
        x = F.relu(_conv(sd, f'{MASK}boundary_fcn{k}', x, padding=1))
        if k == 2:
            x = _bcnet_relation(sd, x, '_bo')
    occluder = x
    x = x_ori + x
    for k in range(1, 5):
        x = F.relu(_conv(sd, f'{MASK}mask_fcn{k}', x, padding=1))
        if k == 2:
            x = _bcnet_relation(sd, x, '')

    def output(deconv: str, predictor: str, features: Tensor) -> Tensor:
        return _conv(sd, MASK + predictor, F.relu(_deconv(sd, MASK + deconv, features)))

    return dict(amodal=output('deconv', 'predictor', x),
                amodal_boundary=output('boundary_deconv', 'boundary_predictor', x),
                occluder=output('bo_deconv', 'predictor_bo', occluder),
                occluder_boundary=output('boundary_deconv_bo', 'boundary_predictor_bo', occluder))


def _attention(sd, name: str, query: Tensor, key: Tensor, value: Tensor, heads: int) -> Tensor:
    """nn.MultiheadAttention (sequence-first) with the weights of ``name``."""
    return F.multi_head_attention_forward(
        query, key, value, query.shape[-1], heads, sd[name + '.in_proj_weight'],
        sd[name + '.in_proj_bias'], None, None, False, 0.0, sd[name + '.out_proj.weight'],
        sd[name + '.out_proj.bias'], training=False, need_weights=False)[0]


def _layer_norm(sd, name: str, x: Tensor) -> Tensor:
    return F.layer_norm(x, x.shape[-1:], sd[name + '.weight'], sd[name + '.bias'])


def _ffn(sd, layer: str, x: Tensor) -> Tensor:
    hidden = F.relu(F.linear(x, sd[layer + 'linear1.weight'], sd[layer + 'linear1.bias']))
    return F.linear(hidden, sd[layer + 'linear2.weight'], sd[layer + 'linear2.bias'])


def _mlp(sd, name: str, x: Tensor, num_layers: int) -> Tensor:
    for i in range(num_layers):
        x = F.linear(x, sd[f'{name}.layers.{i}.weight'], sd[f'{name}.layers.{i}.bias'])
        x = F.relu(x) if i < num_layers - 1 else x
    return x


def aisformer_logits(sd, x: Tensor, heads: int = 2, num_layers: int = 1) -> Dict[str, Tensor]:
    """AISFormer.forward (JUSTIFY_LOSS on, as the released configs): short-range features, the
    post-norm transformer encoder and decoder of 4 queries, masks as embedding . pixel
    embedding; outputs 0 visible, 1 occluder, 2 amodal, the invisible one from [amodal, visible]."""
    a = AISFORMER
    x = F.relu(_conv(sd, a + 'mask_feat_learner_TR', x, padding=1))
    x = F.relu(_deconv(sd, a + 'deconv_for_TR.0', x))
    n, dims, h, w = x.shape
    col = sd[a + 'positional_encoding.col_embed.weight'][:w]
    row = sd[a + 'positional_encoding.row_embed.weight'][:h]
    pos = torch.cat([col[None].expand(h, w, -1), row[:, None].expand(h, w, -1)], dim=-1)
    pos = pos.reshape(h * w, 1, dims).expand(-1, n, -1)  # (HW, N, E)
    memory = x.flatten(2).permute(2, 0, 1)
    for i in range(num_layers):
        layer = f'{a}transformer_encoder.layers.{i}.'
        q = memory + pos
        memory = _layer_norm(sd, layer + 'norm1',
                             memory + _attention(sd, layer + 'self_attn', q, q, memory, heads))
        memory = _layer_norm(sd, layer + 'norm2', memory + _ffn(sd, layer, memory))
    query_pos = sd[a + 'query_embed.weight'][:, None].expand(-1, n, -1)
    tgt = torch.zeros_like(query_pos)
    for i in range(num_layers):
        layer = f'{a}transformer_decoder.layers.{i}.'
        q = tgt + query_pos
        tgt = _layer_norm(sd, layer + 'norm1',
                          tgt + _attention(sd, layer + 'self_attn', q, q, tgt, heads))
        tgt = _layer_norm(sd, layer + 'norm2', tgt + _attention(
            sd, layer + 'multihead_attn', tgt + query_pos, memory + pos, memory, heads))
        tgt = _layer_norm(sd, layer + 'norm3', tgt + _ffn(sd, layer, tgt))
    decoded = tgt.transpose(0, 1)  # (N, 4, E)
    pixels = memory.permute(1, 2, 0).reshape(n, dims, h, w) + x
    pixels = _layer_norm(sd, a + 'norm_rois', pixels.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    pixels = _conv(sd, a + 'pixel_embed', pixels)
    embeds = _mlp(sd, a + 'mask_embed', decoded, 3)
    invisible = _mlp(sd, a + 'subtract_model', torch.cat([embeds[:, 2], embeds[:, 0]], dim=1), 2)
    embeds = torch.cat([embeds, invisible[:, None]], dim=1)
    masks = torch.einsum('bqc,bchw->bqhw', embeds, pixels)
    return dict(visible=masks[:, 0:1], occluder=masks[:, 1:2], amodal=masks[:, 2:3],
                invisible=masks[:, -1:])


def class_rows(names: Sequence[str], wanted: Sequence[str]) -> list:
    """Indices of ``wanted`` in ``names``."""
    return [list(names).index(name) for name in wanted]
