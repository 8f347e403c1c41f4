"""Look at the ground truth of an amodal dataset: amodal masks in class colours, invisible parts
highlighted, as the model's predictions are drawn.

    # the dataset of a config, through its pipeline (augmentations included)
    python tools/analysis_tools/browse_dataset.py CONFIG [--phase train] --output-dir DIR

    # any annotation file in the canonical format, images as they are
    python tools/analysis_tools/browse_dataset.py ANN_FILE --img-dir DIR --output-dir DIR

Without ``--output-dir`` the images are shown in a window, ``--show-interval`` seconds each.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
if osp.isfile(osp.join(REPO_ROOT, 'mmorcnn', '__init__.py')):  # run from a checkout: no install
    sys.path.insert(0, REPO_ROOT)

#: The pipeline that shows an annotation file's images and ground truth as they are.
ANN_FILE_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackAmodalDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape'))
]


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
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


def build_dataset_and_visualizer(args: argparse.Namespace):
    """The dataset to browse and an AmodalDetLocalVisualizer that knows its classes."""
    import mmorcnn  # noqa: F401  registers the amodal dataset, transforms and visualizer
    from mmdet.registry import DATASETS, VISUALIZERS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    init_default_scope('mmdet')
    visualizer_cfg = dict(type='AmodalDetLocalVisualizer', name='browse_dataset')
    if args.source.endswith('.json'):
        dataset_cfg = dict(type='AmodalCocoDataset', ann_file=osp.abspath(args.source),
                           data_prefix=dict(img=args.img_dir), data_root='',
                           pipeline=ANN_FILE_PIPELINE, test_mode=True)
    else:
        cfg = Config.fromfile(args.source)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        dataset_cfg = cfg[f'{args.phase}_dataloader'].dataset
        if cfg.get('visualizer') and cfg.visualizer.get('type') == 'AmodalDetLocalVisualizer':
            visualizer_cfg = {**cfg.visualizer, 'name': 'browse_dataset', 'vis_backends': None}
    if args.limit is not None:
        dataset_cfg = {**dataset_cfg, 'indices': args.limit}
    dataset = DATASETS.build(dataset_cfg)
    visualizer = VISUALIZERS.build(visualizer_cfg)
    visualizer.dataset_meta = dataset.metainfo
    return dataset, visualizer


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.utils import ProgressBar

    dataset, visualizer = build_dataset_and_visualizer(args)
    images = instances = occluded = 0
    bar = ProgressBar(len(dataset))
    for item in dataset:
        data_sample = item['data_samples']
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # BGR -> RGB
        gt = data_sample.gt_instances
        gt.bboxes = gt.bboxes.tensor if hasattr(gt.bboxes, 'tensor') else gt.bboxes
        name = osp.basename(data_sample.img_path)
        visualizer.add_datasample(
            name, image, data_sample, draw_pred=False, show=args.output_dir is None,
            wait_time=args.show_interval,
            out_file=osp.join(args.output_dir, name) if args.output_dir else None)
        images += 1
        instances += len(gt)
        if 'invisible_masks' in gt:
            occluded += int((gt.invisible_masks.areas > 0).sum())
        bar.update()
    print(f'\n{images} images, {instances} instances, {occluded} of them occluded'
          + (f'; written to {args.output_dir}' if args.output_dir else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
