"""Deployment: the export of ORCNN and AmodalMRCNN to one ONNX graph (docs/deployment.md).

The ONNX Runtime inferencer that runs an export is :class:`mmorcnn.apis.OnnxAmodalInferencer`.
The ``onnx`` and ``onnxruntime`` packages are the optional ``deploy`` extra
(``pip install .[deploy]``); they are imported only when an export or a session is made.
"""
from .export import (DEFAULT_OPSET, ExportReport, export_model, export_onnx, export_problems,
                     load_exportable_model, mask_kinds)
from .onnx_graph import AmodalDetectorGraph

__all__ = [
    'AmodalDetectorGraph', 'DEFAULT_OPSET', 'ExportReport', 'export_model', 'export_onnx',
    'export_problems', 'load_exportable_model', 'mask_kinds'
]
