"""Look at the ground truth of an amodal dataset: amodal masks in class colours, invisible parts
highlighted, as the model's predictions are drawn.

    # the dataset of a config, through its pipeline (augmentations included)
    python tools/analysis_tools/browse_dataset.py CONFIG [--phase train] --output-dir DIR

    # any annotation file in the canonical format, images as they are
    python tools/analysis_tools/browse_dataset.py ANN_FILE --img-dir DIR --output-dir DIR

Without ``--output-dir`` the images are shown in a window, ``--show-interval`` seconds each.
"""
import argparse
import sys

from mmengine.config import DictAction

from mmorcnn.analysis.browse_dataset import browse_dataset


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Browse the ground truth of an amodal dataset')
    parser.add_argument('source', help='a config file (.py) or an annotation file in the '
                        'canonical amodal format (.json, with --img-dir)')
    parser.add_argument('--img-dir', help='image folder of an annotation file')
    parser.add_argument('--phase', choices=('train', 'val', 'test'), default='train',
                        help="which of a config's dataloaders to browse (default: train)")
    parser.add_argument('--output-dir', help='write the images here instead of showing them')
    parser.add_argument('--limit', type=int, default=None, help='only the first N images')
    parser.add_argument('--show-interval', type=float, default=2,
                        help='seconds each image is shown (default: 2)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    args = parser.parse_args(argv)
    if args.source.endswith('.json') and not args.img_dir:
        parser.error('an annotation file needs --img-dir')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    images, instances, occluded = browse_dataset(
        args.source, img_dir=args.img_dir, phase=args.phase, output_dir=args.output_dir,
        limit=args.limit, show_interval=args.show_interval, cfg_options=args.cfg_options)
    print(f'\n{images} images, {instances} instances, {occluded} of them occluded'
          + (f'; written to {args.output_dir}' if args.output_dir else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
