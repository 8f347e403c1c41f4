"""Decode every image of a config's datasets once and name the ones that cannot be read.

    python tools/analysis_tools/check_images.py CONFIG [--splits train val test] \\
        [--cfg-options k=v ...]

For each split (``train_dataloader``, ``val_dataloader``, ``test_dataloader``; a split the
config shares with another is checked once) the dataset is built as for a run (annotations
validated, ``filter_cfg`` applied) and each image decoded as the data pipeline does
(:mod:`mmorcnn.analysis.check_images`). Prints one line per unreadable
image (image id, file, reason) and a summary; exits with status 1 when any image is unreadable.
``AmodalCocoDataset(check_images=True)`` makes the same check when a run starts.
"""
import argparse
import sys

from mmengine.config import Config, DictAction

from mmorcnn.analysis.check_images import SPLITS, check_config_images, format_image_checks


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Find the unreadable images of a dataset')
    parser.add_argument('config', help='config file')
    parser.add_argument('--splits', nargs='+', choices=SPLITS, default=list(SPLITS),
                        help='which data loaders to check (default: all three)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_dataloader.dataset.'
                        'data_root=data/x/')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    results = check_config_images(cfg, args.splits)
    print(format_image_checks(results))
    return 1 if any(c.unreadable for c in results) else 0


if __name__ == '__main__':
    sys.exit(main())
