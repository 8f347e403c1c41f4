"""Draw the ground truth of an amodal dataset as the model's predictions are drawn: amodal masks
in class colours, invisible parts highlighted.

The source is a config (its dataloader's dataset, through its pipeline, augmentations included)
or any annotation file in the canonical format (images as they are).
"""
import os.path as osp
from typing import Optional, Tuple

#: The pipeline that shows an annotation file's images and ground truth as they are.
ANN_FILE_PIPELINE = [
    dict(type='LoadNamedImageFromFile'),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackAmodalDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape'))
]


def build_dataset_and_visualizer(source: str, img_dir: Optional[str] = None,
                                 phase: str = 'train', limit: Optional[int] = None,
                                 cfg_options: Optional[dict] = None):
    """The dataset to browse and an AmodalDetLocalVisualizer that knows its classes.

    Args:
        source (str): A config file (``.py``) or an annotation file (``.json``).
        img_dir (str, optional): The image folder of an annotation file.
        phase (str): Which of a config's dataloaders: ``'train'``, ``'val'`` or ``'test'``.
        limit (int, optional): Only the first ``limit`` images.
        cfg_options (dict, optional): Merged into the config.
    """
    import mmorcnn  # noqa: F401  registers the amodal dataset, transforms and visualizer
    from mmdet.registry import DATASETS, VISUALIZERS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmorcnn.visualization import unused_visualizer_name

    init_default_scope('mmdet')
    name = unused_visualizer_name('browse_dataset')
    visualizer_cfg = dict(type='AmodalDetLocalVisualizer', name=name)
    if source.endswith('.json'):
        if not img_dir:
            raise ValueError(f'{source}: an annotation file needs its image folder (img_dir)')
        dataset_cfg = dict(type='AmodalCocoDataset', ann_file=osp.abspath(source),
                           data_prefix=dict(img=img_dir), data_root='',
                           pipeline=ANN_FILE_PIPELINE, test_mode=True)
    else:
        cfg = Config.fromfile(source)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        dataset_cfg = cfg[f'{phase}_dataloader'].dataset
        if cfg.get('visualizer') and cfg.visualizer.get('type') == 'AmodalDetLocalVisualizer':
            visualizer_cfg = {**cfg.visualizer, 'name': name, 'vis_backends': None}
    if limit is not None:
        dataset_cfg = {**dataset_cfg, 'indices': limit}
    dataset = DATASETS.build(dataset_cfg)
    visualizer = VISUALIZERS.build(visualizer_cfg)
    visualizer.dataset_meta = dataset.metainfo
    return dataset, visualizer


def browse_dataset(source: str, img_dir: Optional[str] = None, phase: str = 'train',
                   output_dir: Optional[str] = None, limit: Optional[int] = None,
                   show_interval: float = 2, cfg_options: Optional[dict] = None
                   ) -> Tuple[int, int, int]:
    """Draw every image of the dataset (:func:`build_dataset_and_visualizer`) into
    ``output_dir`` (one overlay per image, named as the image), or show each in a window for
    ``show_interval`` seconds without ``output_dir``.

    Returns:
        tuple[int, int, int]: The images, the instances and the occluded instances drawn.
    """
    from mmengine.utils import ProgressBar

    dataset, visualizer = build_dataset_and_visualizer(source, img_dir, phase, limit,
                                                       cfg_options)
    images = instances = occluded = 0
    bar = ProgressBar(len(dataset))
    for item in dataset:
        data_sample = item['data_samples']
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # BGR -> RGB
        gt = data_sample.gt_instances
        gt.bboxes = gt.bboxes.tensor if hasattr(gt.bboxes, 'tensor') else gt.bboxes
        name = osp.basename(data_sample.img_path)
        visualizer.add_datasample(
            name, image, data_sample, draw_pred=False, show=output_dir is None,
            wait_time=show_interval,
            out_file=osp.join(output_dir, name) if output_dir else None)
        images += 1
        instances += len(gt)
        if 'invisible_masks' in gt:
            occluded += int((gt.invisible_masks.areas > 0).sum())
        bar.update()
    return images, instances, occluded
