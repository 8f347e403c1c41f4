"""Run an exported amodal detector in ONNX Runtime: the same inputs, outputs and files as
:class:`~mmorcnn.apis.AmodalInferencer`.

    from mmorcnn.apis import OnnxAmodalInferencer
    inferencer = OnnxAmodalInferencer('configs/orcnn/orcnn_r18_fpn_tiny_synthetic.py',
                                      'orcnn.onnx')
    result = inferencer('demo.png', out_dir='outputs', no_save_pred=False)

The ONNX file is what ``tools/deployment/export_onnx.py`` writes from the config and a
checkpoint (:mod:`mmorcnn.deployment`). The config gives the test pipeline (loading and resizing
the image), the visualizer and the test settings of the paste; the graph gives the detections and
their mask probabilities at the mask head's resolution; :class:`OnnxAmodalDetector` pastes them
into the image with the package's own paste (:func:`paste_masks`, as the RoI heads do) and adds
the occlusion order (:func:`add_occlusion_order`). Predictions, the per-image JSON and the
overlays are then made by the same code as :class:`AmodalInferencer`'s.

Everything is checked before any image is run: that the file is an ONNX model with the inputs
and outputs of an export of this config's model and as many classes
(:class:`~mmorcnn.structures.errors.OnnxModelError`), and that every array input is an
H x W x 3 image (:class:`~mmorcnn.structures.errors.ImageChannelError`).
"""
import json
import os.path as osp
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.structures import InstanceData
from torch import nn

from mmdet.registry import MODELS
from mmorcnn.deployment.export import (FORMAT_VERSION, expected_outputs, export_problems,
                                       mask_kinds)
from mmorcnn.deployment.onnx_graph import INPUT_NAME, mask_output_name
from mmorcnn.models.mask_paste import mask_paste_windows, paste_masks
from mmorcnn.models.roi_heads.occlusion_roi_head import add_occlusion_order
from mmorcnn.structures.errors import ImageChannelError, OnnxModelError
from mmorcnn.structures.mask_kinds import MASK_KIND
from mmorcnn.visualization.amodal_visualizer import DEFAULT_PALETTE
from .amodal_inferencer import DEFAULT_MAX_MASK_PIXELS, AmodalInferencer


def providers_for(device: Optional[str]) -> List:
    """ONNX Runtime execution providers for a device name: ``'cpu'`` (and None) the CPU
    provider; ``'cuda'`` / ``'cuda:N'`` the CUDA provider on GPU N, the CPU one after it for
    operators it lacks.

    Raises:
        ValueError: The device is not one of these, or the installed ONNX Runtime has no CUDA
            provider (the ``onnxruntime-gpu`` package has it).
    """
    import onnxruntime as ort
    if device in (None, 'cpu'):
        return ['CPUExecutionProvider']
    if device.startswith('cuda'):
        if 'CUDAExecutionProvider' not in ort.get_available_providers():
            raise ValueError(f'device {device}: this ONNX Runtime has no CUDA provider (it has '
                             f'{", ".join(ort.get_available_providers())}); install '
                             'onnxruntime-gpu instead of onnxruntime')
        device_id = int(device.split(':')[1]) if ':' in device else 0
        return [('CUDAExecutionProvider', dict(device_id=device_id)), 'CPUExecutionProvider']
    raise ValueError(f'device {device!r}: ONNX Runtime runs on cpu or cuda[:N]')


def image_channel_problem(image: np.ndarray) -> Optional[str]:
    """Why an array is not an image the models read (H x W x 3), or None."""
    shape = tuple(np.shape(image))
    if len(shape) == 3 and shape[2] == 3:
        return None
    channels = 1 if len(shape) == 2 else (shape[2] if len(shape) == 3 else None)
    what = f'{channels} channel(s)' if channels is not None else f'{len(shape)} dimensions'
    return f'an array of shape {shape} ({what}); the model reads H x W x 3 images'


class OnnxAmodalDetector(nn.Module):
    """An exported amodal detector in an ONNX Runtime session, with the ``test_step`` of an
    mmdet detector: data samples with ``pred_instances`` as the PyTorch model gives them
    (boxes, scores and labels at the original image size, ``masks`` and, for ORCNN,
    ``visible_masks`` and ``invisible_masks`` pasted, ``occluders`` and ``depth``).

    Args:
        onnx_file (str): The exported model.
        cfg (Config): The config it was exported from.
        device (str, optional): ``'cpu'`` or ``'cuda[:N]'`` (:func:`providers_for`).
        num_threads (int): Threads of the CPU provider within an operator; 0 is ONNX Runtime's
            default (one per physical core). Defaults to 0.

    The paste follows the config's ``model.test_cfg.rcnn`` (``mask_thr_binary``, and
    ``max_mask_pixels`` for large images, :mod:`mmorcnn.models.mask_paste`), as the PyTorch
    model's heads do.

    Raises:
        OnnxModelError: The file is not an ONNX model, or not an export of the config's model.
    """

    def __init__(self, onnx_file: str, cfg: Config, device: Optional[str] = None,
                 num_threads: int = 0) -> None:
        super().__init__()
        import onnxruntime as ort
        model = MODELS.build(cfg.model)
        problems = export_problems(model)
        if problems:
            raise OnnxModelError(f'{onnx_file}: its config {getattr(cfg, "filename", "")} has no '
                                 'ONNX form: ' + '; '.join(problems))
        self.kinds = mask_kinds(model.roi_head)
        self.num_classes = model.roi_head.bbox_head.num_classes
        self.with_occlusion_order = bool(getattr(model.roi_head, 'with_occlusion_order', False))
        self.test_cfg = model.test_cfg
        #: The config it was exported from (the inferencer's pipeline and visualizer read it,
        #: as they read a PyTorch model's ``cfg``).
        self.cfg = cfg
        if not osp.isfile(onnx_file):
            raise OnnxModelError(f'{onnx_file}: file not found')
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(num_threads)
        options.log_severity_level = 3  # errors only
        try:
            self.session = ort.InferenceSession(onnx_file, options,
                                                providers=providers_for(device))
        except Exception as e:  # ONNX Runtime raises its own exception types
            raise OnnxModelError(f'{onnx_file}: not a model ONNX Runtime can load ({e})') from None
        self.onnx_file = onnx_file
        self.dataset_meta = self._check_model()

    def _check_model(self) -> Dict:
        """The checks of the session's inputs, outputs and metadata; the dataset_meta it has."""
        name = self.onnx_file
        inputs = self.session.get_inputs()
        if [(i.name, i.type, len(i.shape)) for i in inputs] != [(INPUT_NAME, 'tensor(float)',
                                                                  4)]:
            found = ', '.join(f'{i.name} {i.type} {i.shape}' for i in inputs)
            raise OnnxModelError(f'{name}: inputs {found}; an exported amodal detector has one '
                                 f'input, {INPUT_NAME} (1 x 3 x H x W float)')
        outputs = [o.name for o in self.session.get_outputs()]
        expected = expected_outputs(self.kinds)
        if outputs != expected:
            raise OnnxModelError(f'{name}: outputs {outputs}; the config\'s model exported has '
                                 f'{expected} (is it the export of another model?)')
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get('mmorcnn.format') != FORMAT_VERSION:
            raise OnnxModelError(f'{name}: metadata mmorcnn.format is '
                                 f'{meta.get("mmorcnn.format")!r}, this version reads '
                                 f'{FORMAT_VERSION!r} (export it again with '
                                 'tools/deployment/export_onnx.py)')
        if meta.get('mmorcnn.num_classes') != str(self.num_classes):
            raise OnnxModelError(f'{name}: exported with {meta.get("mmorcnn.num_classes")} '
                                 f'classes, the config has {self.num_classes}')
        classes = json.loads(meta.get('mmorcnn.classes') or '[]')
        palette = json.loads(meta.get('mmorcnn.palette') or 'null')
        return dict(classes=classes or [str(i) for i in range(self.num_classes)],
                    palette=palette)

    def run(self, image: torch.Tensor) -> Dict[str, np.ndarray]:
        """The graph's outputs by name for one (3, H, W) image of the test pipeline."""
        feed = {INPUT_NAME: image[None].to(torch.float32).cpu().numpy()}
        return dict(zip(expected_outputs(self.kinds), self.session.run(None, feed)))

    def test_step(self, data: dict) -> list:
        """Predictions of a batch of the test pipeline (``inputs``: (3, H, W) images,
        ``data_samples``), one image at a time."""
        samples = data['data_samples']
        for image, sample in zip(data['inputs'], samples):
            if image.dim() != 3 or image.shape[0] != 3:
                raise ImageChannelError(f'{sample.get("img_path") or "array input"}: image of '
                                        f'shape {tuple(image.shape)} after the pipeline; the '
                                        'model reads 3-channel images')
            sample.pred_instances = self.predict(self.run(image), sample.metainfo)
        return samples

    def predict(self, outputs: Dict[str, np.ndarray], img_meta: dict) -> InstanceData:
        """The graph's outputs of one image as the RoI head's results: boxes at the original
        size, masks pasted there (as lists of RLEs for an image too large for
        ``test_cfg.rcnn.max_mask_pixels``), the occlusion order."""
        results = InstanceData(bboxes=torch.from_numpy(outputs['boxes']),
                               scores=torch.from_numpy(outputs['scores']),
                               labels=torch.from_numpy(outputs['labels']))
        paste_masks([(MASK_KIND[kind].field, True) for kind in self.kinds],
                    [(outputs[mask_output_name(kind)][:, None], ) for kind in self.kinds],
                    [results], [img_meta], self.test_cfg.rcnn, rescale=True, activate_map=True)
        if self.with_occlusion_order:
            add_occlusion_order(results, mask_paste_windows(results))
        return results


class OnnxAmodalInferencer(AmodalInferencer):
    """:class:`AmodalInferencer` with an exported model run by ONNX Runtime
    (:class:`OnnxAmodalDetector`) in place of the PyTorch model: the same inputs, the same
    predictions, JSON files and overlays.

    Args:
        model (str | dict): The config (file) the ONNX file was exported from.
        weights (str): The ONNX file.
        device (str, optional): ``'cpu'`` (default) or ``'cuda[:N]'`` (needs onnxruntime-gpu).
        scope (str, optional): Registry scope. Defaults to 'mmdet'.
        palette (str): As :class:`AmodalInferencer`'s.
        show_progress (bool): Show a progress bar. Defaults to True.
        num_threads (int): Threads of the CPU provider; 0 (default) is ONNX Runtime's default.
        max_mask_pixels (int): As :class:`AmodalInferencer`'s.

    Raises:
        OnnxModelError: The ONNX file is not an export of the config's model.
        ImageChannelError: (at a call) An array input is not an H x W x 3 image.
    """

    def __init__(self, model: Union[str, dict], weights: str, device: Optional[str] = None,
                 scope: Optional[str] = 'mmdet', palette: str = 'none',
                 show_progress: bool = True, num_threads: int = 0,
                 max_mask_pixels: Optional[int] = DEFAULT_MAX_MASK_PIXELS) -> None:
        self.num_threads = num_threads
        super().__init__(model, weights, device=device or 'cpu', scope=scope, palette=palette,
                         show_progress=show_progress, max_mask_pixels=max_mask_pixels)

    def _init_model(self, cfg: ConfigDict, weights: Optional[str],
                    device: str = 'cpu') -> OnnxAmodalDetector:
        """The ONNX Runtime model of ``weights`` (the ONNX file), with
        :attr:`max_mask_pixels` in the config's R-CNN test config, as the PyTorch model gets
        it."""
        self._set_max_mask_pixels(cfg.model)
        model = OnnxAmodalDetector(weights, cfg, device, self.num_threads)
        if self.palette != 'none':
            model.dataset_meta['palette'] = self.palette
        elif model.dataset_meta.get('palette') in (None, 'random'):
            model.dataset_meta['palette'] = [DEFAULT_PALETTE[i % len(DEFAULT_PALETTE)]
                                             for i in range(len(model.dataset_meta['classes']))]
        return model

    def _inputs_to_list(self, inputs) -> list:
        """As :class:`AmodalInferencer`'s; an array input that is not an H x W x 3 image raises
        :class:`ImageChannelError` before any image is run."""
        items = super()._inputs_to_list(inputs)
        for index, item in enumerate(items):
            if isinstance(item, np.ndarray):
                problem = image_channel_problem(item)
                if problem is not None:
                    raise ImageChannelError(f'input {index}: {problem}')
        return items


