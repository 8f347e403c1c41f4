"""Turn an mmdet Mask R-CNN checkpoint into an ORCNN initialisation (paper 3.1, appendix A).

ORCNN is fine-tuned from a modal Mask R-CNN: its (modal) mask head initialises both the amodal and
the visible mask head, and the class-specific output layers (box classifier, class-specific box
regressor and mask predictors) are re-initialised when the class set differs, as the paper did for
D2S amodal and COCOA. The ORCNN configs load the result (``load_from``) from ``checkpoints/``:

    python tools/model_converters/mask_rcnn_to_orcnn.py \
        mask_rcnn_r50_fpn_1x_coco_20200205-d4b0c5d6.pth checkpoints/orcnn_r50_fpn_coco-init.pth
    mim train mmorcnn orcnn_r50_fpn_10k_d2sa.py

Without ``--num-classes`` the class-specific layers stay in the file and mmengine's loader skips
those whose shape differs from the model's; ``--num-classes N`` drops them from the file.

``--no-visible-head`` only re-initialises the class-specific layers (for the AmodalMRCNN and
MRCNN baselines, which keep a single mask head).
"""
import argparse

from mmorcnn.models.mask_rcnn_to_orcnn import VISIBLE_MASK_HEAD, convert_checkpoint


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Initialise ORCNN from an mmdet Mask R-CNN checkpoint: its mask head goes '
        'into both the amodal and the visible mask head')
    parser.add_argument('src', help='mmdet Mask R-CNN checkpoint (.pth)')
    parser.add_argument('dst', help='where to write the ORCNN checkpoint')
    parser.add_argument(
        '--num-classes', type=int, help='class count of the ORCNN model; class-specific output '
        'layers are re-initialised when it differs from the checkpoint')
    parser.add_argument(
        '--class-agnostic-mask', action='store_true',
        help='the ORCNN model has class-agnostic mask predictors (cls-agn variants)')
    parser.add_argument(
        '--no-visible-head', action='store_true',
        help='keep a single mask head (AmodalMRCNN / MRCNN baselines)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    state_dict, converted, dropped = convert_checkpoint(
        args.src, args.dst, args.num_classes, args.class_agnostic_mask, not args.no_visible_head)
    copied = sum(key.startswith(VISIBLE_MASK_HEAD) for key in converted)
    print(f'{"source tensors":<40}{len(state_dict):>8}')
    print(f'{"mask head tensors copied to visible":<40}{copied:>8}')
    print(f'{"dropped (re-initialised)":<40}{len(dropped):>8}')
    for key in dropped:
        print(f'  {key}')
    print(f'saved {args.dst}')


if __name__ == '__main__':
    main()
