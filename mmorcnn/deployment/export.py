"""Export ORCNN, AmodalMRCNN, BCNet or AISFormer from a config and a checkpoint into one ONNX
graph.

    from mmorcnn.deployment import export_onnx
    report = export_onnx('configs/orcnn/orcnn_r18_fpn_tiny_synthetic.py', 'iter_900.pth',
                         'orcnn.onnx')
    print(report.describe())

The graph (:class:`~mmorcnn.deployment.onnx_graph.AmodalDetectorGraph`) takes the test
pipeline's resized image (``image``, 1 x 3 x H x W float32, any H and W) and returns ``boxes``,
``scores``, ``labels`` and, per detection, the probabilities of the amodal (and, but for
AmodalMRCNN, the visible and invisible) mask at the mask head's resolution
(``amodal_mask_probs`` ...), with a dynamic number of detections. It is made by the TorchScript
exporter of ``torch.onnx`` (``dynamo=False``): its trace keeps the data-dependent number of boxes
as ONNX operators (``NonZero``, ``TopK``, ``NonMaxSuppression``), which torch's
``torch.export``-based exporter would need to be told about part by part. The file carries what
the inferencer needs besides the graph in its metadata (:data:`METADATA_KEYS`): the classes and
palette of the checkpoint, the mask kinds and the number of classes.

Everything that can be checked is checked before the trace (:func:`export_problems`): the model
has only parts the graph knows (:class:`~mmorcnn.structures.errors.ExportError` otherwise), and
the checkpoint fits the model
(:class:`~mmorcnn.engine.checkpoint_fit.CheckpointMismatchError`). After the export the file is
checked with ``onnx.checker``.
"""
import json
import os
import os.path as osp
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model

from mmdet.models.detectors import TwoStageDetector
from mmdet.models.dense_heads import RPNHead
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.roi_heads.bbox_heads import BBoxHead
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmdet.models.task_modules.prior_generators import AnchorGenerator
from mmdet.registry import MODELS
from mmorcnn.engine.checkpoint_fit import check_checkpoint_fits
from mmorcnn.engine.runner import CheckpointReadError
from mmorcnn.models.roi_heads.amodal_roi_head import AmodalRoIHead
from mmorcnn.models.roi_heads.mask_heads import (AISFormerMaskHead, BCNetMaskHead,
                                                 OcclusionMaskHead)
from mmorcnn.models.roi_heads.occlusion_roi_head import OcclusionRoIHead
from mmorcnn.structures.errors import ExportError
from mmorcnn.utils.checkpoint import checkpoint_problem, setup_checkpoint_loading
from mmorcnn.version import __version__
from .onnx_graph import (DETECTION_OUTPUTS, INPUT_NAME, AmodalDetectorGraph,
                         mask_output_name)
from .onnx_ops import MIN_OPSET

#: The opset of the export (``RoiAlign``'s half-pixel mode needs at least :data:`MIN_OPSET`).
DEFAULT_OPSET = 17
#: Metadata of an exported file: ``mmorcnn.format`` (this layout's version),
#: ``mmorcnn.classes`` and ``mmorcnn.palette`` (JSON lists, from the checkpoint's
#: ``dataset_meta``), ``mmorcnn.mask_kinds`` (JSON list, the kinds of the mask outputs),
#: ``mmorcnn.num_classes``, ``mmorcnn.config`` (the config file's name) and ``mmorcnn.version``.
METADATA_KEYS = ('mmorcnn.format', 'mmorcnn.classes', 'mmorcnn.palette', 'mmorcnn.mask_kinds',
                 'mmorcnn.num_classes', 'mmorcnn.config', 'mmorcnn.version')
#: The value of ``mmorcnn.format`` this version writes and reads.
FORMAT_VERSION = '1'


def _named(obj) -> str:
    return type(obj).__name__


def export_problems(model: torch.nn.Module) -> List[str]:
    """What of a built model the ONNX graph has no form for (empty: it can be exported).

    The graph knows mmdet's two-stage detector with ``DetDataPreprocessor`` (no batch
    augmentation), ``RPNHead`` (sigmoid scores, ``AnchorGenerator``, ``DeltaXYWHBBoxCoder``),
    ``StandardRoIHead`` or :class:`OcclusionRoIHead` with FCN mask heads
    (:class:`AmodalMaskHead`, and :class:`OcclusionMaskHead` for the invisible masks), or
    :class:`AmodalRoIHead` with BCNet's or AISFormer's mask head; ``SingleRoIExtractor``\\ s of
    mmcv's average ``RoIAlign``, a ``BBoxHead`` with softmax scores and ``DeltaXYWHBBoxCoder``
    and plain ``nms`` in both stages.
    """
    problems = []
    if not isinstance(model, TwoStageDetector):
        return [f'the detector is a {_named(model)}, not a two-stage detector (Mask R-CNN, ORCNN)']
    prep = model.data_preprocessor
    if _named(prep) != 'DetDataPreprocessor' or getattr(prep, 'batch_augments', None):
        problems.append(f'data_preprocessor {_named(prep)}: only mmdet\'s DetDataPreprocessor '
                        'without batch_augments')
    rpn = model.rpn_head
    if type(rpn) is not RPNHead or not rpn.use_sigmoid_cls or \
            type(rpn.prior_generator) is not AnchorGenerator or \
            type(rpn.bbox_coder) is not DeltaXYWHBBoxCoder:
        problems.append(f'rpn_head {_named(rpn)}: only mmdet\'s RPNHead with sigmoid scores, '
                        'AnchorGenerator and DeltaXYWHBBoxCoder')
    roi_head = model.roi_head
    if type(roi_head) not in (StandardRoIHead, OcclusionRoIHead, AmodalRoIHead):
        return problems + [f'roi_head {_named(roi_head)}: only mmdet\'s StandardRoIHead '
                           '(AmodalMRCNN), OcclusionRoIHead (ORCNN) and AmodalRoIHead (BCNet, '
                           'AISFormer) have an ONNX form']
    if not roi_head.with_mask:
        problems.append('roi_head has no mask head')
    if roi_head.with_shared_head:
        problems.append('roi_head has a shared head')
    bbox_head = roi_head.bbox_head
    if not isinstance(bbox_head, BBoxHead) or bbox_head.custom_cls_channels or \
            type(bbox_head.bbox_coder) is not DeltaXYWHBBoxCoder:
        problems.append(f'bbox_head {_named(bbox_head)}: only a BBoxHead with softmax scores and '
                        'DeltaXYWHBBoxCoder')
    for name in ('bbox_roi_extractor', 'mask_roi_extractor'):
        extractor = getattr(roi_head, name, None)
        if extractor is None:
            continue
        layers = getattr(extractor, 'roi_layers', [])
        if type(extractor) is not SingleRoIExtractor or any(
                _named(layer) != 'RoIAlign' or layer.pool_mode != 'avg'
                or layer.use_torchvision for layer in layers):
            problems.append(f'{name} {_named(extractor)}: only SingleRoIExtractor with mmcv\'s '
                            'RoIAlign (pool_mode avg)')
        if getattr(roi_head, 'share_roi_extractor', False):
            break
    if type(roi_head) is AmodalRoIHead:
        if type(roi_head.mask_head) not in (BCNetMaskHead, AISFormerMaskHead):
            problems.append(f'mask_head {_named(roi_head.mask_head)} of AmodalRoIHead: only '
                            'BCNetMaskHead and AISFormerMaskHead')
    else:
        heads = [('mask_head', roi_head.mask_head)] + [
            (f'{kind}_mask_head', getattr(roi_head, f'{kind}_mask_head', None))
            for kind in ('visible', 'invisible')]
        for name, head in heads:
            if name == 'invisible_mask_head' and head is not None and \
                    type(head) is not OcclusionMaskHead:
                problems.append(f'{name} {_named(head)}: only OcclusionMaskHead')
            elif name != 'invisible_mask_head' and head is not None and \
                    not isinstance(head, FCNMaskHead):
                problems.append(f'{name} {_named(head)}: only FCN mask heads')
    for stage in ('rpn', 'rcnn'):
        nms_cfg = dict(model.test_cfg[stage].nms)
        unknown = set(nms_cfg) - {'type', 'iou_threshold', 'class_agnostic', 'split_thr'}
        if nms_cfg.get('type', 'nms') != 'nms' or unknown:
            problems.append(f'test_cfg.{stage}.nms {nms_cfg}: only type=\'nms\' with '
                            'iou_threshold (and class_agnostic)')
    return problems


def mask_kinds(roi_head: torch.nn.Module) -> List[str]:
    """The mask kinds an exportable RoI head predicts, in output order: ``amodal``, then
    ``visible`` and ``invisible`` (ORCNN with both heads, BCNet, AISFormer)."""
    if hasattr(roi_head.mask_head, 'kind_logits'):
        return ['amodal', 'visible', 'invisible']
    return ['amodal'] + [kind for kind in ('visible', 'invisible')
                         if getattr(roi_head, f'{kind}_mask_head', None) is not None]


@dataclass
class ExportReport:
    """What :func:`export_onnx` wrote: the file, its opset, inputs and outputs (name, element
    type, shape with named dynamic axes)."""
    path: str
    opset: int
    inputs: List[Tuple[str, str, List[Union[int, str]]]] = field(default_factory=list)
    outputs: List[Tuple[str, str, List[Union[int, str]]]] = field(default_factory=list)
    metadata: Dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        lines = [f'{self.path}: opset {self.opset}, checked with onnx.checker']
        for what, values in (('input ', self.inputs), ('output', self.outputs)):
            for name, dtype, shape in values:
                lines.append(f'  {what} {name}: {dtype} {shape}')
        lines.append(f'  classes: {", ".join(json.loads(self.metadata["mmorcnn.classes"]))}')
        return '\n'.join(lines)


def _value_info(values) -> List[Tuple[str, str, List[Union[int, str]]]]:
    import onnx
    infos = []
    for value in values:
        tensor = value.type.tensor_type
        shape = [dim.dim_param or dim.dim_value for dim in tensor.shape.dim]
        infos.append((value.name, onnx.TensorProto.DataType.Name(tensor.elem_type).lower(),
                      shape))
    return infos


def load_exportable_model(config: Union[str, Config], checkpoint: str,
                          cfg_options: Optional[dict] = None) -> Tuple[torch.nn.Module, dict]:
    """The config's model with the checkpoint's weights, in eval mode on the CPU, and the
    checkpoint's ``dataset_meta``.

    Raises:
        ExportError: The model has a part the graph has no form for (before the checkpoint is
            read).
        CheckpointReadError: The checkpoint cannot be read.
        CheckpointMismatchError: The checkpoint does not fit the model.
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    name = getattr(cfg, 'filename', None) or 'the config'
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model_cfg = cfg.model.copy()
    if model_cfg.get('backbone', {}).get('init_cfg') is not None:
        model_cfg.backbone.init_cfg = None  # the checkpoint has every weight
    model = MODELS.build(model_cfg)
    problems = export_problems(model)
    if problems:
        raise ExportError(f'{name} cannot be exported to ONNX: ' + '; '.join(problems))
    problem = checkpoint_problem(checkpoint)
    if problem is not None:
        raise CheckpointReadError(f'checkpoint {checkpoint}: {problem}')
    setup_checkpoint_loading()
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    check_checkpoint_fits(model, ckpt, checkpoint, 'ONNX export')
    _load_checkpoint_to_model(model, ckpt)
    dataset_meta = dict((ckpt.get('meta') or {}).get('dataset_meta') or {})
    if not dataset_meta.get('classes'):
        dataset_meta['classes'] = list(cfg.get('metainfo', {}).get('classes') or
                                       cfg.test_dataloader.dataset.get('metainfo', {}).get(
                                           'classes', []))
    return model.eval(), dataset_meta


def trace_shape(cfg: Config) -> Tuple[int, int]:
    """(height, width) of the image traced: the test pipeline's resize scale, else 800 x 1333."""
    for step in cfg.test_dataloader.dataset.pipeline:
        if step.get('type', '').endswith('Resize') and step.get('scale'):
            width, height = step['scale']
            return int(height), int(width)
    return 800, 1333


def export_onnx(config: Union[str, Config], checkpoint: str, out: str,
                opset: int = DEFAULT_OPSET, shape: Optional[Sequence[int]] = None,
                cfg_options: Optional[dict] = None) -> ExportReport:
    """Export the model of ``config`` with ``checkpoint``'s weights to ``out`` (see the module
    docstring) and check the file with ``onnx.checker``.

    Args:
        config (str | Config): The model's config.
        checkpoint (str): Its checkpoint.
        out (str): The ONNX file to write.
        opset (int): ONNX opset, at least :data:`~mmorcnn.deployment.onnx_ops.MIN_OPSET`.
            Defaults to :data:`DEFAULT_OPSET`.
        shape (Sequence[int], optional): (height, width) of the image the trace runs on; the
            graph takes any size. Defaults to :func:`trace_shape`.
        cfg_options (dict, optional): Overrides of the config.

    Returns:
        ExportReport: The file, opset, inputs, outputs and metadata.
    """
    _check_opset(opset)
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    model, dataset_meta = load_exportable_model(cfg, checkpoint, cfg_options)
    return export_model(model, out, dataset_meta, opset, shape or trace_shape(cfg),
                        osp.basename(getattr(cfg, 'filename', None) or ''))


def _check_opset(opset: int) -> None:
    if opset < MIN_OPSET:
        raise ExportError(f'opset {opset}: the export needs opset {MIN_OPSET} or later '
                          '(RoiAlign with half-pixel coordinates, as mmcv\'s aligned RoIAlign)')


def export_model(model: torch.nn.Module, out: str, dataset_meta: Optional[dict] = None,
                 opset: int = DEFAULT_OPSET, shape: Sequence[int] = (800, 1333),
                 config_name: str = '') -> ExportReport:
    """Export a built detector (weights loaded) to ``out``: :func:`export_onnx` after the
    config and checkpoint are loaded.

    Args:
        model (nn.Module): The detector; :func:`export_problems` must find none.
        out (str): The ONNX file to write.
        dataset_meta (dict, optional): ``classes`` and ``palette`` for the metadata.
        opset (int): ONNX opset. Defaults to :data:`DEFAULT_OPSET`.
        shape (Sequence[int]): (height, width) of the image traced. Defaults to 800 x 1333.
        config_name (str): The config's name for the metadata.

    Returns:
        ExportReport: The file, opset, inputs, outputs and metadata.
    """
    import onnx
    _check_opset(opset)
    problems = export_problems(model)
    if problems:
        raise ExportError(f'{config_name or "the model"} cannot be exported to ONNX: '
                          + '; '.join(problems))
    dataset_meta = dataset_meta or {}
    kinds = mask_kinds(model.roi_head)
    graph = AmodalDetectorGraph(model.eval(), kinds).eval()
    height, width = shape
    image = torch.rand(1, 3, int(height), int(width)) * 255
    dynamic_axes = {INPUT_NAME: {2: 'height', 3: 'width'}}
    dynamic_axes.update({name: {0: 'detections'} for name in graph.output_names})
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        # Notes of the exporter, not about the model: the trace's on values read as Python
        # numbers (the graph rewrites the steps whose values depend on them, and the tests
        # compare the graph's outputs with PyTorch's), the deprecation of the TorchScript
        # exporter this export chooses (see the module docstring) and its form of advanced
        # indexing. Every other warning stays visible.
        warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', 'You are using the legacy TorchScript-based ONNX',
                                DeprecationWarning)
        warnings.filterwarnings('ignore', 'The feature will be removed', DeprecationWarning,
                                r'torch\.onnx\.')
        warnings.filterwarnings('ignore', 'Exporting aten::index operator of advanced indexing',
                                UserWarning, r'torch\.onnx\.')
        outputs = graph(image)
        torch.onnx.export(graph, (image, ), out, dynamo=False, opset_version=opset,
                          input_names=[INPUT_NAME], output_names=graph.output_names,
                          dynamic_axes=dynamic_axes, do_constant_folding=True)
    proto = onnx.load(out)
    for value, output in zip(proto.graph.output, outputs):
        # the sizes the trace leaves symbolic but the model fixes (4 coordinates, the mask
        # head's resolution)
        for dim, size in list(zip(value.type.tensor_type.shape.dim, output.shape))[1:]:
            dim.dim_value = int(size)
    metadata = {
        'mmorcnn.format': FORMAT_VERSION,
        'mmorcnn.classes': json.dumps(list(dataset_meta.get('classes') or [])),
        'mmorcnn.palette': json.dumps(dataset_meta.get('palette')),
        'mmorcnn.mask_kinds': json.dumps(kinds),
        'mmorcnn.num_classes': str(model.roi_head.bbox_head.num_classes),
        'mmorcnn.config': config_name,
        'mmorcnn.version': __version__,
    }
    onnx.helper.set_model_props(proto, metadata)
    proto.producer_name = 'mmorcnn'
    proto.producer_version = __version__
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, out)
    opset_found = next(o.version for o in proto.opset_import if o.domain in ('', 'ai.onnx'))
    return ExportReport(out, opset_found, _value_info(proto.graph.input),
                        _value_info(proto.graph.output), metadata)


def expected_outputs(mask_kinds: Sequence[str]) -> List[str]:
    """The output names of an export with these mask kinds."""
    return list(DETECTION_OUTPUTS) + [mask_output_name(kind) for kind in mask_kinds]
