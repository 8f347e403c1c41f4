"""Convert a Detectron2 checkpoint (the authors' released weights) into an mmorcnn checkpoint.

Known architectures, each R-50-FPN: Detectron2's Mask R-CNN (aistron's Mask R-CNN models; into
an AmodalMRCNN, MRCNN or ORCNN config, the last with both mask heads from the one), aistron's
BCNet and AISFormer's AISFormer. Every tensor is mapped and shape-checked against the config's
model; anything that does not fit is named in the error (see
mmorcnn/models/detectron2_to_mmorcnn.py and docs/model_conversion.md):

    python tools/model_converters/detectron2_to_mmorcnn.py model_final.pth \\
        checkpoints/aisformer_r50_fpn_kins_authors.pth \\
        --config configs/aisformer/aisformer_r50_fpn_48k_kins.py --cfg-options $CAFFE
    mim test mmorcnn configs/aisformer/aisformer_r50_fpn_48k_kins.py \\
        --checkpoint checkpoints/aisformer_r50_fpn_kins_authors.pth --cfg-options $CAFFE

``$CAFFE``: the options that give a config Detectron2's caffe-style input, which the tool prints
when the config lacks them (docs/model_conversion.md, Preprocessing).

A checkpoint with other classes than the config's is converted by class name:
``--src-classes cyclist,pedestrian,rider,car,tram,truck,van,misc`` (aistron's KINS 2020 models).
"""
import argparse

from mmengine.config import DictAction

from mmorcnn.models.detectron2_to_mmorcnn import convert_checkpoint
from mmorcnn.structures import exit_on_bad_input


def class_list(text: str) -> list:
    return [name.strip() for name in text.split(',') if name.strip()]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a Detectron2 checkpoint (Mask R-CNN, aistron BCNet, AISFormer; '
        'R-50-FPN) into an mmorcnn checkpoint for a config')
    parser.add_argument('src', help="Detectron2 checkpoint: .pth with a 'model' state dict, or a "
                        'model zoo .pkl of numpy arrays')
    parser.add_argument('dst', help='where to write the mmorcnn checkpoint')
    parser.add_argument('--config', required=True, help='the mmorcnn config of the model')
    parser.add_argument(
        '--src-classes', type=class_list, help="the checkpoint's class names in the order of "
        'its rows, comma-separated; needed when its class count differs from the config\'s')
    parser.add_argument(
        '--dst-classes', type=class_list, help="the model's class names, comma-separated, when "
        "the config's datasets name none")
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings (key=value), as for mim train / mim test')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    result = convert_checkpoint(args.src, args.dst, args.config, args.cfg_options,
                                args.src_classes, args.dst_classes)
    print(f'{"architecture":<44}{result.architecture:>8}')
    print(f'{"model tensors filled from the checkpoint":<44}{len(result.mapping):>8}')
    for title, names in (('source tensors the authors never use', result.unused),
                         ('model tensors set to zero', result.zero_filled),
                         ('BatchNorm step counters set to 0', result.counters)):
        print(f'{title:<44}{len(names):>8}')
        if title != 'BatchNorm step counters set to 0':
            for name in names:
                print(f'  {name}')
    if result.classes is not None:
        print('classes (config <- checkpoint row): '
              + ', '.join(f'{name} <- {index}' for name, index in result.classes))
    print(f'saved {args.dst}')


if __name__ == '__main__':
    exit_on_bad_input(main)
