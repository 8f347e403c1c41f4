"""Export ORCNN, AmodalMRCNN, BCNet or AISFormer to one ONNX graph (docs/deployment.md).

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT OUT.onnx [--opset 17]

The graph takes the test pipeline's resized image (``image``: 1 x 3 x H x W float32, any size)
and returns ``boxes``, ``scores``, ``labels`` and per detection the amodal (ORCNN: also visible
and invisible) mask probabilities at the mask head's resolution, for any number of detections.
The file is checked with ``onnx.checker``; the tool prints its opset, inputs and outputs. Run it
in ONNX Runtime with ``tools/demo/image_demo.py IMAGES CONFIG OUT.onnx --backend onnxruntime``.

A config whose heads have no ONNX form, or a checkpoint that does not fit the config, is refused
before the export starts (with the reason).
"""
import argparse
import sys

from mmengine.config import DictAction

from mmorcnn.deployment import DEFAULT_OPSET, export_onnx
from mmorcnn.structures import exit_on_bad_input


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export an amodal detector to ONNX')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('out', help='the ONNX file to write')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET,
                        help=f'ONNX opset, 16 or later (default: {DEFAULT_OPSET})')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('HEIGHT', 'WIDTH'),
                        help='size of the image traced (default: the test pipeline\'s resize '
                        'scale); the graph takes any size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    report = export_onnx(args.config, args.checkpoint, args.out, opset=args.opset,
                         shape=args.shape, cfg_options=args.cfg_options)
    print(report.describe())
    return 0


if __name__ == '__main__':
    sys.exit(exit_on_bad_input(main))
