"""Convert a Detectron2 checkpoint into an mmorcnn checkpoint for a config.

The authors of the amodal methods mmorcnn implements released their weights as Detectron2
checkpoints: a ``.pth`` file with the state dict under ``model`` (what Detectron2's trainer saves),
or a model zoo ``.pkl`` file of numpy arrays (``{'model': ..., '__author__': ...}`` or a bare
dict). Three architectures on Detectron2's R-50-FPN Mask R-CNN are known, each by its mask head:

- ``mask_rcnn``: Detectron2's Mask R-CNN (``MaskRCNNConvUpsampleHead``), as aistron's Mask R-CNN
  models; into an AmodalMRCNN / MRCNN config, or an ORCNN config, whose amodal and visible mask
  heads then both start from it (the ORCNN paper's fine-tuning, :mod:`.mask_rcnn_to_orcnn`);
- ``bcnet``: BCNet's bilayer mask head (trqminh/aistron ``projects/BCNet/bcnet/mask_head.py``, a
  re-implementation of lkeab/BCNet's) into :class:`~mmorcnn.models.BCNetMaskHead`;
- ``aisformer``: AISFormer's mask head (UARK-AICV/AISFormer
  ``detectron2/modeling/roi_heads/aisformer/aisformer.py``) into
  :class:`~mmorcnn.models.AISFormerMaskHead`.

The backbone, FPN, RPN and box head follow Detectron2's names for its ResNet, FPN,
``StandardRPNHead``, ``FastRCNNConvFCHead`` and ``FastRCNNOutputLayers``; their mmdet
counterparts (``ResNet``, ``FPN``, ``RPNHead``, ``Shared2FCBBoxHead``) compute the same functions
of the same tensors: both put the background class last in the box classifier, order anchors and
box deltas alike and share the box coder's scales.

Nothing is dropped silently. The model of the config is built, and every source tensor must map
onto one of its tensors of the same shape and every tensor of the model must be filled, or
:class:`~mmorcnn.structures.CheckpointKeysError` names what does not fit. Three kinds of
tensors are named in the result instead: source tensors the authors' forward never reads
(AISFormer's ``predictor_TR``), model tensors the authors' layers do not have and whose zero
value computes the authors' function (the biases of the query, key and value convolutions of
mmcv's non-local block, which BCNet's transforms lack), and BatchNorm step counters
(``num_batches_tracked``), which Detectron2's frozen BatchNorm does not keep.

A checkpoint with another class count than the config's (aistron's KINS 2020 models have 8
classes, rider included; mmorcnn's KINS configs 7) has its class-specific rows selected by class
name, the names of the checkpoint's classes coming from the checkpoint (``thing_classes`` or
``classes`` beside ``model``) or from the caller; without names the conversion is refused with
:class:`~mmorcnn.structures.ClassMappingError`.

Detectron2's MSRA backbones take caffe-style input: BGR images minus Detectron2's pixel mean,
divided by 1, with the stride of each bottleneck in its 1x1 convolution. The conversion is
refused (:class:`~mmorcnn.structures.PreprocessingMismatchError`) unless the config's data
preprocessor and backbone say so.
"""
import os
import os.path as osp
import re
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmdet.registry import MODELS
from mmorcnn.structures.errors import (CheckpointConversionError, CheckpointKeysError,
                                       ClassMappingError, PreprocessingMismatchError)
from mmorcnn.utils.checkpoint import load_numpy_pickle, setup_checkpoint_loading
from .mask_rcnn_to_orcnn import VISIBLE_MASK_HEAD, copy_mask_head

#: The input preprocessing of Detectron2's MSRA ResNets (``MODEL.PIXEL_MEAN`` /
#: ``MODEL.PIXEL_STD`` of Detectron2's defaults, ``INPUT.FORMAT`` BGR): mmdet's data
#: preprocessor settings that reproduce it.
DETECTRON2_MSRA_PREPROCESSING = dict(
    mean=[103.530, 116.280, 123.675], std=[1.0, 1.0, 1.0], bgr_to_rgb=False)

#: Keys of a checkpoint file, beside ``model``, that may name the classes of its model.
CLASS_NAME_KEYS = ('thing_classes', 'classes')

#: Source tensors of Detectron2's models that are the input normalisation, not parameters
#: (saved by Detectron2 versions that kept them as persistent buffers).
PIXEL_STATS = ('pixel_mean', 'pixel_std')


@dataclass
class Rule:
    """Maps source tensors whose name matches ``pattern`` (in full) to ``template`` filled with
    the match's groups, each integer group plus ``shifts[group]`` (Detectron2 counts stages and
    layers from other origins than mmdet); ``transform(tensor, target_shape)`` optionally
    reshapes the tensor."""
    pattern: str
    template: str
    shifts: Dict[str, int] = field(default_factory=dict)
    transform: Optional[Callable[[torch.Tensor, tuple], torch.Tensor]] = None

    def apply(self, name: str) -> Optional[str]:
        match = re.fullmatch(self.pattern, name)
        if match is None:
            return None
        groups = {key: str(int(value) + self.shifts[key]) if key in self.shifts else value
                  for key, value in match.groupdict().items()}
        return self.template.format(**groups)


def rename(src: str, dst: str, transform=None) -> Rule:
    """Every tensor of the module ``src`` (weight, bias, BatchNorm statistics) into the module
    ``dst``, under the same tensor name."""
    return Rule(re.escape(src) + r'\.(?P<p>[a-z_]+)', dst + '.{p}', transform=transform)


_BN = r'(?P<p>weight|bias|running_mean|running_var|num_batches_tracked)'
_RES = r'backbone\.bottom_up\.res(?P<s>[2-5])\.(?P<i>\d+)\.'

#: Detectron2's ResNet (``backbone.bottom_up``, frozen BatchNorm as ``norm``), FPN, RPN and box
#: head: detectron2/modeling/backbone/{resnet,fpn}.py, proposal_generator/rpn.py,
#: roi_heads/{box_head,fast_rcnn}.py.
COMMON_RULES = [
    Rule(r'backbone\.bottom_up\.stem\.conv1\.weight', 'backbone.conv1.weight'),
    Rule(r'backbone\.bottom_up\.stem\.conv1\.norm\.' + _BN, 'backbone.bn1.{p}'),
    Rule(_RES + r'conv(?P<j>[1-3])\.weight', 'backbone.layer{s}.{i}.conv{j}.weight', {'s': -1}),
    Rule(_RES + r'conv(?P<j>[1-3])\.norm\.' + _BN, 'backbone.layer{s}.{i}.bn{j}.{p}', {'s': -1}),
    Rule(_RES + r'shortcut\.weight', 'backbone.layer{s}.{i}.downsample.0.weight', {'s': -1}),
    Rule(_RES + r'shortcut\.norm\.' + _BN, 'backbone.layer{s}.{i}.downsample.1.{p}', {'s': -1}),
    Rule(r'backbone\.fpn_lateral(?P<k>[2-5])\.(?P<p>weight|bias)',
         'neck.lateral_convs.{k}.conv.{p}', {'k': -2}),
    Rule(r'backbone\.fpn_output(?P<k>[2-5])\.(?P<p>weight|bias)',
         'neck.fpn_convs.{k}.conv.{p}', {'k': -2}),
    rename('proposal_generator.rpn_head.conv', 'rpn_head.rpn_conv'),
    rename('proposal_generator.rpn_head.objectness_logits', 'rpn_head.rpn_cls'),
    rename('proposal_generator.rpn_head.anchor_deltas', 'rpn_head.rpn_reg'),
    Rule(r'roi_heads\.box_head\.fc(?P<k>\d)\.(?P<p>weight|bias)',
         'roi_head.bbox_head.shared_fcs.{k}.{p}', {'k': -1}),
    rename('roi_heads.box_predictor.cls_score', 'roi_head.bbox_head.fc_cls'),
    rename('roi_heads.box_predictor.bbox_pred', 'roi_head.bbox_head.fc_reg'),
]

#: Class-specific source modules of the box predictor and what their rows are: ``cls`` one per
#: class and the background last, ``reg`` four per class (or four for all).
BOX_CLASS_SPECIFIC = {'roi_heads.box_predictor.cls_score': 'cls',
                      'roi_heads.box_predictor.bbox_pred': 'reg'}

_MASK = 'roi_heads.mask_head.'
_HEAD = 'roi_head.mask_head.'


def _mask_convs(src: str, dst: str) -> Rule:
    """Detectron2's numbered 3x3 convolutions (``mask_fcn1``...) into a ModuleList of
    ConvModules (``convs.0.conv``...)."""
    return Rule(re.escape(_MASK + src) + r'(?P<k>\d+)\.(?P<p>weight|bias)',
                _HEAD + dst + '.{k}.conv.{p}', {'k': -1})


def _positional_rows(tensor: torch.Tensor, shape: tuple) -> torch.Tensor:
    """The rows of a learned positional embedding that the target's grid indexes: DETR's
    embedding (AISFormer's) has 50 rows, of which a 28 x 28 grid reads the first 28."""
    return tensor[:shape[0]] if len(shape) == 2 and shape[0] <= tensor.shape[0] else tensor


@dataclass
class Detectron2Architecture:
    """A Detectron2 model the converter knows, by the names of its mask head.

    Attributes:
        name (str): ``'mask_rcnn'``, ``'bcnet'`` or ``'aisformer'``.
        source (str): Where its mask head's code is (repository and file).
        marker (str): A source tensor only this architecture has.
        mask_rules (list[Rule]): The mask head's names.
        mask_class_specific (tuple[str]): Source modules with one output channel per class (or
            one for all).
        unused (dict): ``{source module: why}`` of source tensors the authors' forward never
            reads; they are left out and named in the result.
        zero_filled (dict): ``{target name pattern: why}`` of model tensors the authors' layers
            lack, whose zero value computes the authors' function.
    """
    name: str
    source: str
    marker: str
    mask_rules: List[Rule]
    mask_class_specific: Tuple[str, ...] = ()
    unused: Dict[str, str] = field(default_factory=dict)
    zero_filled: Dict[str, str] = field(default_factory=dict)


MASK_RCNN = Detectron2Architecture(
    name='mask_rcnn',
    source='facebookresearch/detectron2 detectron2/modeling/roi_heads/mask_head.py '
    '(MaskRCNNConvUpsampleHead)',
    marker=_MASK + 'mask_fcn1.weight',
    mask_rules=[_mask_convs('mask_fcn', 'convs'),
                rename(_MASK + 'deconv', _HEAD + 'upsample'),
                rename(_MASK + 'predictor', _HEAD + 'conv_logits')],
    mask_class_specific=(_MASK + 'predictor', ))


def _bcnet_nonlocal(suffix: str, dst: str) -> List[Rule]:
    """BCNet's non-local block (query / key / value / output transforms and the "blocker"
    BatchNorm) into mmcv's NonLocal2d (theta / phi / g / conv_out)."""
    return [rename(f'{_MASK}{src}_transform_bound{suffix}', f'{_HEAD}{dst}.{to}.conv')
            for src, to in (('query', 'theta'), ('key', 'phi'), ('value', 'g'),
                            ('output', 'conv_out'))
            ] + [rename(f'{_MASK}blocker_bound{suffix}', f'{_HEAD}{dst}.conv_out.bn')]


BCNET = Detectron2Architecture(
    name='bcnet',
    source='trqminh/aistron projects/BCNet/bcnet/mask_head.py (BCNet; the names of '
    'lkeab/BCNet detectron2/modeling/roi_heads/mask_head.py)',
    marker=_MASK + 'boundary_fcn1.weight',
    mask_rules=[
        # the occludee branch gives the amodal mask and boundary, the occluder branch ("bo",
        # background objects) the occluder's
        _mask_convs('mask_fcn', 'convs'),
        _mask_convs('boundary_fcn', 'occluder_convs'),
        rename(_MASK + 'deconv', _HEAD + 'upsample'),
        rename(_MASK + 'predictor', _HEAD + 'conv_logits'),
        rename(_MASK + 'boundary_deconv', _HEAD + 'outputs.amodal_boundary.0'),
        rename(_MASK + 'boundary_predictor', _HEAD + 'outputs.amodal_boundary.2'),
        rename(_MASK + 'bo_deconv', _HEAD + 'outputs.occluder.0'),
        rename(_MASK + 'predictor_bo', _HEAD + 'outputs.occluder.2'),
        rename(_MASK + 'boundary_deconv_bo', _HEAD + 'outputs.occluder_boundary.0'),
        rename(_MASK + 'boundary_predictor_bo', _HEAD + 'outputs.occluder_boundary.2'),
    ] + _bcnet_nonlocal('', 'occludee_nonlocal') + _bcnet_nonlocal('_bo', 'occluder_nonlocal'),
    mask_class_specific=tuple(_MASK + name for name in (
        'predictor', 'boundary_predictor', 'predictor_bo', 'boundary_predictor_bo')),
    zero_filled={
        re.escape(_HEAD) + r'(occluder|occludee)_nonlocal\.(g|theta|phi)\.conv\.bias':
        "BCNet's query, key and value transforms are 1x1 convolutions without bias"
    })

_AIS = _MASK + 'mask_head_model.'
_ENC = re.escape(_AIS) + r'transformer_encoder\.layers\.(?P<l>\d+)\.'
_DEC = re.escape(_AIS) + r'transformer_decoder\.layers\.(?P<l>\d+)\.'
_ATTENTION = r'(?P<p>in_proj_weight|in_proj_bias|out_proj\.weight|out_proj\.bias)'
_LINEAR = r'\.(?P<p>weight|bias)'

AISFORMER = Detectron2Architecture(
    name='aisformer',
    source='UARK-AICV/AISFormer detectron2/modeling/roi_heads/aisformer/aisformer.py '
    '(AISFormer, in MaskRCNNConvUpsampleHead.mask_head_model) and detectron2/layers/'
    '{transformer,position_encoding,mlp}.py',
    marker=_AIS + 'query_embed.weight',
    mask_rules=[
        rename(_AIS + 'mask_feat_learner_TR', _HEAD + 'convs.0.conv'),
        rename(_AIS + 'deconv_for_TR.0', _HEAD + 'upsample'),
        rename(_AIS + 'positional_encoding.row_embed', _HEAD + 'positional_encoding.row_embed',
               _positional_rows),
        rename(_AIS + 'positional_encoding.col_embed', _HEAD + 'positional_encoding.col_embed',
               _positional_rows),
        Rule(_ENC + r'self_attn\.' + _ATTENTION, _HEAD + 'encoder.layers.{l}.self_attn.attn.{p}'),
        Rule(_ENC + 'linear1' + _LINEAR, _HEAD + 'encoder.layers.{l}.ffn.layers.0.0.{p}'),
        Rule(_ENC + 'linear2' + _LINEAR, _HEAD + 'encoder.layers.{l}.ffn.layers.1.{p}'),
        Rule(_ENC + r'norm(?P<n>[12])' + _LINEAR, _HEAD + 'encoder.layers.{l}.norms.{n}.{p}',
             {'n': -1}),
        Rule(_DEC + r'self_attn\.' + _ATTENTION, _HEAD + 'decoder.layers.{l}.self_attn.attn.{p}'),
        Rule(_DEC + r'multihead_attn\.' + _ATTENTION,
             _HEAD + 'decoder.layers.{l}.cross_attn.attn.{p}'),
        Rule(_DEC + 'linear1' + _LINEAR, _HEAD + 'decoder.layers.{l}.ffn.layers.0.0.{p}'),
        Rule(_DEC + 'linear2' + _LINEAR, _HEAD + 'decoder.layers.{l}.ffn.layers.1.{p}'),
        Rule(_DEC + r'norm(?P<n>[123])' + _LINEAR, _HEAD + 'decoder.layers.{l}.norms.{n}.{p}',
             {'n': -1}),
        rename(_AIS + 'query_embed', _HEAD + 'query_embed'),
        Rule(re.escape(_AIS) + r'mask_embed\.layers\.(?P<i>\d+)' + _LINEAR,
             _HEAD + 'mask_embed.layers.{i}.{p}'),
        Rule(re.escape(_AIS) + r'subtract_model\.layers\.(?P<i>\d+)' + _LINEAR,
             _HEAD + 'invisible_embed.layers.{i}.{p}'),
        rename(_AIS + 'norm_rois', _HEAD + 'pixel_norm'),
        rename(_AIS + 'pixel_embed', _HEAD + 'pixel_embed'),
    ],
    unused={_AIS + 'predictor_TR': "built in AISFormer.__init__ but never called in its forward "
            "(the masks are dot products of embeddings)"})

ARCHITECTURES = (AISFORMER, BCNET, MASK_RCNN)  # the first whose marker the checkpoint has


@dataclass
class Detectron2Conversion:
    """The result of :func:`convert_state_dict`.

    Attributes:
        state_dict (OrderedDict): The model's state dict, every tensor filled.
        architecture (str): The source architecture (:data:`ARCHITECTURES`).
        mapping (dict): ``{target name: source name}``; a copied tensor (ORCNN's visible mask
            head) names the source of its original.
        unused (list[str]): Source tensors left out because the authors' forward never reads them.
        zero_filled (list[str]): Model tensors set to zero (no counterpart in the authors' layers,
            zero computes their function).
        counters (list[str]): BatchNorm step counters set to 0.
        classes (list[tuple], optional): ``(config class, checkpoint class index)`` in the
            config's order when the class-specific rows were selected by name, else None.
        pixel_stats (dict): The checkpoint's ``pixel_mean`` / ``pixel_std``, if it has them.
    """
    state_dict: 'OrderedDict[str, torch.Tensor]'
    architecture: str
    mapping: Dict[str, str]
    unused: List[str]
    zero_filled: List[str]
    counters: List[str]
    classes: Optional[List[Tuple[str, int]]] = None
    pixel_stats: Dict[str, List[float]] = field(default_factory=dict)


def load_detectron2_checkpoint(filename: str) -> Tuple[Dict[str, torch.Tensor], Optional[list]]:
    """The state dict of a Detectron2 checkpoint as tensors, and its class names if it has some.

    A torch file (zip archive: a ``.pth`` of Detectron2's trainer) is read with torch's
    ``weights_only`` loader, any other file as a pickle of numpy arrays (a model zoo ``.pkl``,
    :func:`~mmorcnn.utils.checkpoint.load_numpy_pickle`). The state dict is the file's
    ``model`` entry, or the file itself when every value is an array.

    Raises:
        CheckpointConversionError: The file cannot be read, or holds no state dict.
    """
    if not osp.isfile(filename):
        raise CheckpointConversionError(f'{filename}: no such checkpoint file')
    try:
        if zipfile.is_zipfile(filename):
            setup_checkpoint_loading()
            content = torch.load(filename, map_location='cpu', weights_only=True)
        else:
            content = load_numpy_pickle(filename)
    except Exception as e:  # any failure to read: say which file and why
        raise CheckpointConversionError(
            f'{filename}: not readable as a Detectron2 checkpoint ({type(e).__name__}: {e}); '
            "a .pth is read with torch.load(weights_only=True), save {'model': "
            'model.state_dict()} to convert one holding other objects') from e
    if not isinstance(content, dict):
        raise CheckpointConversionError(
            f'{filename}: holds a {type(content).__name__}, not a dict with a state dict')
    classes = next((list(content[key]) for key in CLASS_NAME_KEYS if key in content), None)
    state = content.get('model', content)
    if not isinstance(state, dict):
        raise CheckpointConversionError(f"{filename}: 'model' is a {type(state).__name__}, "
                                        'not a state dict')
    tensors, others = {}, []
    for name, value in state.items():
        if isinstance(value, (np.ndarray, np.generic)):  # a copy: writable, 0-d stays 0-d
            value = torch.from_numpy(np.array(value))
        if isinstance(value, torch.Tensor):
            tensors[name] = value
        else:
            others.append(name)
    if others:
        raise CheckpointConversionError(
            f'{filename}: the state dict has entries that are not arrays: {", ".join(others)}'
            + (" (a bare dict is taken as the state dict; put it under 'model')"
               if 'model' not in content else ''))
    return tensors, classes


def architecture_of(state_dict: Dict[str, torch.Tensor], checkpoint: str = '<state dict>'
                    ) -> Detectron2Architecture:
    """The architecture whose mask head the state dict has (:data:`ARCHITECTURES`)."""
    for arch in ARCHITECTURES:
        if arch.marker in state_dict:
            return arch
    mask_keys = sorted(k for k in state_dict if k.startswith(_MASK))[:5]
    raise CheckpointConversionError(
        f'{checkpoint}: no mask head of a known Detectron2 architecture (markers: '
        + ', '.join(f'{a.name}: {a.marker}' for a in ARCHITECTURES)
        + f'); its mask head tensors begin with {mask_keys or "nothing"}')


def config_classes(cfg: Config) -> Optional[Tuple[str, ...]]:
    """The class names a config's datasets declare (``metainfo.classes`` of the test, val or
    train dataset, looking through dataset wrappers), or None."""
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        while 'metainfo' not in dataset and isinstance(dataset.get('dataset'), dict):
            dataset = dataset['dataset']
        classes = (dataset.get('metainfo') or {}).get('classes')
        if classes:
            return tuple(classes)
    return None


def check_preprocessing(cfg: Config, checkpoint: str, config: str,
                        pixel_stats: Optional[Dict[str, List[float]]] = None) -> None:
    """Raise :class:`PreprocessingMismatchError` unless the config feeds its backbone as
    Detectron2 fed the checkpoint's: caffe-style ResNet (stride in the 1x1 convolution), BGR
    images, the checkpoint's pixel mean and standard deviation (its ``pixel_mean`` /
    ``pixel_std`` if it has them, else :data:`DETECTRON2_MSRA_PREPROCESSING`'s)."""
    pixel_stats = pixel_stats or {}
    expected = dict(DETECTRON2_MSRA_PREPROCESSING,
                    **{key[len('pixel_'):]: value for key, value in pixel_stats.items()})
    preprocessor = cfg.model.get('data_preprocessor') or {}
    wrong = []
    for key in ('mean', 'std'):
        value = preprocessor.get(key)
        if value is None or not np.allclose(value, expected[key]):
            wrong.append((f'model.data_preprocessor.{key}', value, expected[key]))
    if preprocessor.get('bgr_to_rgb', False) or preprocessor.get('rgb_to_bgr', False):
        wrong.append(('model.data_preprocessor.bgr_to_rgb', True, False))
    style = cfg.model.get('backbone', {}).get('style', 'pytorch')
    if style != 'caffe':
        wrong.append(('model.backbone.style', style, 'caffe'))
    if wrong:
        def fmt(value, option: bool = False):
            if isinstance(value, str) and option:
                return value
            return repr(list(value) if isinstance(value, tuple) else value).replace(' ', '')

        raise PreprocessingMismatchError(
            f'{checkpoint} comes from a Detectron2 MSRA backbone (caffe-style, BGR input), but '
            f'{config} ' + '; '.join(f'has {name}={fmt(have)} (needs {fmt(need)})'
                                     for name, have, need in wrong)
            + '. Use a config with those values, or give them as --cfg-options '
            + ' '.join(f'{name}={fmt(need, option=True)}' for name, _, need in wrong)
            + ' here and to every mim train / mim test of the converted checkpoint')


def _class_indices(state: Dict[str, torch.Tensor], target: Dict[str, torch.Tensor],
                   src_classes: Optional[Sequence[str]], dst_classes: Optional[Sequence[str]],
                   checkpoint: str, config: str) -> Optional[List[int]]:
    """Which checkpoint class each config class is, or None to keep the rows as they are."""
    cls_key, fc_cls = 'roi_heads.box_predictor.cls_score.weight', 'roi_head.bbox_head.fc_cls.weight'
    if cls_key not in state or fc_cls not in target:
        return None  # the key comparison names the missing box classifier
    src_count = state[cls_key].shape[0] - 1  # the background is the last row
    dst_count = target[fc_cls].shape[0] - 1
    for names, count, whose, key, option in (
            (src_classes, src_count, checkpoint, cls_key, '--src-classes or the file'),
            (dst_classes, dst_count, config, fc_cls, '--dst-classes or the config')):
        if names is not None and len(names) != count:
            raise ClassMappingError(
                f'{whose} has {count} classes ({key} rows minus the background), but '
                f'{len(names)} class names were given ({option}): {", ".join(names)}')
    if src_classes is not None and dst_classes is not None:
        absent = [name for name in dst_classes if name not in src_classes]
        if absent:
            raise ClassMappingError(
                f'classes of {config} that {checkpoint} does not have: {", ".join(absent)} '
                f'(its classes: {", ".join(src_classes)}): their class-specific rows cannot '
                'come from it; convert it for a config whose classes it has')
        indices = [list(src_classes).index(name) for name in dst_classes]
        return None if indices == list(range(src_count)) else indices
    if src_count == dst_count:
        return None
    raise ClassMappingError(
        f'{checkpoint} has {src_count} classes ({cls_key} has {src_count + 1} rows, the '
        f'background last) and {config} {dst_count}: name the checkpoint\'s classes in their '
        'training order with --src-classes (for aistron\'s KINS 2020 models: cyclist,'
        'pedestrian,rider,car,tram,truck,van,misc)'
        + ('' if dst_classes is not None else ', and the config\'s with --dst-classes (the '
           'config\'s datasets name none)')
        + '; the rows of the config\'s classes are then selected by name')


def _select_classes(tensor: torch.Tensor, kind: str, indices: List[int]) -> torch.Tensor:
    """The rows of ``indices``' classes of a class-specific tensor (``cls``: one per class and
    the background last; ``reg``: four per class; ``mask``: one channel per class), unchanged
    when it holds one row group for all classes."""
    count = {'cls': tensor.shape[0] - 1, 'reg': tensor.shape[0] // 4,
             'mask': tensor.shape[0]}[kind]
    if kind != 'cls' and tensor.shape[0] == {'reg': 4, 'mask': 1}[kind]:
        return tensor  # class-agnostic
    if kind == 'cls':
        return tensor[indices + [count]]
    if kind == 'reg':
        return tensor.reshape(count, 4, *tensor.shape[1:])[indices].flatten(0, 1)
    return tensor[indices]


def convert_state_dict(state: Dict[str, torch.Tensor],
                       target: Dict[str, torch.Tensor],
                       src_classes: Optional[Sequence[str]] = None,
                       dst_classes: Optional[Sequence[str]] = None,
                       checkpoint: str = '<checkpoint>',
                       config: str = '<config>') -> Detectron2Conversion:
    """Map a Detectron2 state dict onto the state dict of a model (see the module docstring).

    Args:
        state (dict): The Detectron2 tensors (:func:`load_detectron2_checkpoint`).
        target (dict): The model's ``state_dict()``: its names and shapes.
        src_classes, dst_classes (list[str], optional): The class names of the checkpoint and
            of the model, in the order of their rows; needed when the class counts differ.
        checkpoint, config (str): Their names in error messages.

    Returns:
        Detectron2Conversion: The converted state dict and what was left out or filled.

    Raises:
        CheckpointKeysError: A source tensor maps nowhere or onto a tensor the model lacks, a
            model tensor is not filled, or a shape differs.
        ClassMappingError: The class counts differ and the names do not say which is which.
    """
    arch = architecture_of(state, checkpoint)
    indices = _class_indices(state, target, src_classes, dst_classes, checkpoint, config)
    class_specific = dict(BOX_CLASS_SPECIFIC, **{name: 'mask'
                                                 for name in arch.mask_class_specific})
    rules = COMMON_RULES + arch.mask_rules

    converted, mapping = OrderedDict(), {}
    unmapped, unexpected, mismatched, unused, pixel_stats = [], {}, {}, [], {}
    for name, tensor in state.items():
        if name in PIXEL_STATS:
            pixel_stats[name] = tensor.flatten().tolist()
            continue
        module = name.rsplit('.', 1)[0]
        if module in arch.unused:
            unused.append(name)
            continue
        rule, dst = next(((r, d) for r in rules for d in [r.apply(name)] if d), (None, None))
        if rule is None:
            unmapped.append(name)
            continue
        if dst not in target:
            unexpected[name] = dst
            continue
        if indices is not None and module in class_specific:
            tensor = _select_classes(tensor, class_specific[module], indices)
        if rule.transform is not None:
            tensor = rule.transform(tensor, tuple(target[dst].shape))
        if tuple(tensor.shape) != tuple(target[dst].shape):
            mismatched[dst] = (name, tuple(tensor.shape), tuple(target[dst].shape))
            continue
        converted[dst] = tensor.to(target[dst].dtype)
        mapping[dst] = name

    if arch is MASK_RCNN and any(k.startswith(VISIBLE_MASK_HEAD) for k in target):
        # ORCNN: the one Mask R-CNN mask head fills the amodal and the visible mask head
        copy_mask_head(converted, _HEAD, VISIBLE_MASK_HEAD)
        for dst in [k for k in converted if k.startswith(VISIBLE_MASK_HEAD)]:
            name = mapping[_HEAD + dst[len(VISIBLE_MASK_HEAD):]]
            if dst not in target:
                unexpected[name] = dst
            elif tuple(converted[dst].shape) != tuple(target[dst].shape):
                mismatched[dst] = (name, tuple(converted[dst].shape), tuple(target[dst].shape))
            else:
                mapping[dst] = name
                continue
            del converted[dst]

    zero_filled, counters, missing = [], [], []
    for dst, value in target.items():
        if dst in converted or dst in mismatched:
            continue
        if any(re.fullmatch(pattern, dst) for pattern in arch.zero_filled):
            converted[dst] = torch.zeros_like(value)
            zero_filled.append(dst)
        elif (dst.endswith('.num_batches_tracked')
              and dst.replace('num_batches_tracked', 'running_mean') in converted):
            converted[dst] = torch.zeros_like(value)
            counters.append(dst)
        else:
            missing.append(dst)
    if unmapped or unexpected or missing or mismatched:
        raise CheckpointKeysError(checkpoint, config, unmapped, unexpected, missing, mismatched)
    ordered = OrderedDict((key, converted[key]) for key in target)
    classes = None if indices is None else list(zip(dst_classes or [], indices))
    return Detectron2Conversion(ordered, arch.name, mapping, unused, zero_filled, counters,
                                classes, pixel_stats)


def build_model(cfg: Config) -> torch.nn.Module:
    """The model of a config, randomly initialised (no pretrained weights are loaded), in the
    config's default scope (mmdet's); importing mmorcnn has registered its modules."""
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    return MODELS.build(cfg.model)


def convert_checkpoint(src: str,
                       dst: str,
                       config: str,
                       cfg_options: Optional[dict] = None,
                       src_classes: Optional[Sequence[str]] = None,
                       dst_classes: Optional[Sequence[str]] = None) -> Detectron2Conversion:
    """Convert the Detectron2 checkpoint ``src`` into ``dst`` (folders created) for ``config``.

    The config's model is built and the converted state dict loaded into it with
    ``strict=True`` before anything is written. ``dst``'s ``meta`` names the source, the config,
    the architecture, the class names (``dataset_meta``), and what was left out or filled.

    Args:
        src (str): The Detectron2 checkpoint (``.pth`` or ``.pkl``).
        dst (str): Where to write the mmorcnn checkpoint.
        config (str): The mmorcnn config whose model the checkpoint is for.
        cfg_options (dict, optional): Overrides of the config (as ``--cfg-options``).
        src_classes (list[str], optional): The checkpoint's class names, in the order of its
            rows; overrides names the file carries.
        dst_classes (list[str], optional): The model's class names when the config's datasets
            name none.

    Returns:
        Detectron2Conversion: What was converted (:func:`convert_state_dict`).
    """
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    state, file_classes = load_detectron2_checkpoint(src)
    src_classes = list(src_classes) if src_classes is not None else file_classes
    dst_classes = list(dst_classes) if dst_classes is not None else config_classes(cfg)
    pixel_stats = {key: state[key].flatten().tolist() for key in PIXEL_STATS if key in state}
    check_preprocessing(cfg, src, config, pixel_stats)
    model = build_model(cfg)
    result = convert_state_dict(state, model.state_dict(), src_classes, dst_classes, src, config)
    model.load_state_dict(result.state_dict, strict=True)
    meta = dict(converted_from=osp.basename(src), config=config, cfg_options=cfg_options or {},
                source_format='detectron2', architecture=result.architecture,
                unused_source_tensors=result.unused, zero_filled=result.zero_filled,
                class_rows=[(name, index) for name, index in result.classes or []])
    if dst_classes is not None:
        meta['dataset_meta'] = dict(classes=tuple(dst_classes))
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save(dict(state_dict=result.state_dict, meta=meta), dst)
    return result
