"""Unreadable images are named with their image id: before training (check_images, the
dataset option and the tool's function), and when a pipeline loads one (LoadNamedImageFromFile);
an empty dataset names its file and the filter that emptied it."""
import os.path as osp

import pytest
from mmdet.registry import DATASETS, TRANSFORMS

from mmorcnn.datasets import (AmodalAnnotationError, EmptyDatasetError, ImageReadError,
                              image_problem, unreadable_images)


def build(data_root, ann_file, **kwargs):
    cfg = dict(type='AmodalCocoDataset', data_root=data_root, ann_file=ann_file,
               data_prefix=dict(img='images/'), pipeline=[])
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def _corrupt(data_root: str, name: str = 'empty.png', content: bytes = b'<html>not an image'):
    """Overwrite one image of the scene with bytes that do not decode."""
    with open(osp.join(data_root, 'images', name), 'wb') as f:
        f.write(content)


class TestImageCheck:

    def test_decodable_image_has_no_problem(self, write_dataset):
        data_root, _ = write_dataset()
        assert image_problem(osp.join(data_root, 'images', 'scene.png')) is None

    @pytest.mark.parametrize('content', [b'', b'<html>not an image', b'\x89PNG\r\n\x1a\n\0\0'])
    def test_fake_empty_or_cut_images_are_named(self, write_dataset, content):
        data_root, _ = write_dataset()
        _corrupt(data_root, content=content)
        bad = unreadable_images([(1, osp.join(data_root, 'images', 'scene.png')),
                                 (2, osp.join(data_root, 'images', 'empty.png'))])
        assert [(b.image_id, osp.basename(b.img_path)) for b in bad] == [(2, 'empty.png')]

    def test_dataset_option_raises_listing_the_unreadable_images(self, write_dataset):
        data_root, ann_file = write_dataset()
        _corrupt(data_root)
        build(data_root, ann_file)  # without the option the images are not decoded
        with pytest.raises(AmodalAnnotationError, match=r'image 2 \(.*empty.png\)'):
            build(data_root, ann_file, check_images=True)

    def test_dataset_option_with_skip_leaves_them_out_and_lists_them(self, write_dataset):
        data_root, ann_file = write_dataset()
        _corrupt(data_root)
        dataset = build(data_root, ann_file, check_images=True, on_error='skip')
        assert [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))] == [1]
        assert [(img_id, ann_id) for img_id, ann_id, _ in dataset.skipped] == [(2, None)]

    def test_loading_transform_names_file_and_image_id(self, write_dataset):
        data_root, _ = write_dataset()
        _corrupt(data_root)
        load = TRANSFORMS.build(dict(type='LoadNamedImageFromFile'))
        path = osp.join(data_root, 'images', 'empty.png')
        with pytest.raises(ImageReadError) as info:
            load(dict(img_path=path, img_id=2))
        assert path in str(info.value) and 'image 2' in str(info.value)
        assert load(dict(img_path=osp.join(data_root, 'images', 'scene.png'),
                         img_id=1))['img'].shape == (40, 60, 3)


class TestEmptyDataset:

    def test_filter_that_leaves_no_image_is_named(self, write_dataset):
        data_root, ann_file = write_dataset(lambda c: c.update(annotations=[]))
        with pytest.raises(EmptyDatasetError) as info:
            build(data_root, ann_file, filter_cfg=dict(filter_empty_gt=True))
        message = str(info.value)
        assert ann_file in message and "filter_cfg={'filter_empty_gt': True}" in message
        assert 'of the 2 images, 0 have objects' in message

    def test_file_without_images_is_named(self, write_dataset):
        data_root, ann_file = write_dataset(lambda c: c.update(images=[], annotations=[]))
        with pytest.raises(EmptyDatasetError, match='no images to test on'):
            build(data_root, ann_file, test_mode=True)

    def test_a_filter_that_leaves_images_is_not_an_error(self, write_dataset):
        assert len(build(*write_dataset(), filter_cfg=dict(filter_empty_gt=True))) == 1


def test_check_images_lists_the_unreadable_image_of_a_config(tmp_path):
    import json

    from mmengine.config import Config

    from mmorcnn.analysis.check_images import check_config_images, format_image_checks
    from mmorcnn.datasets.synthetic import generate_synthetic_amodal
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    data = tmp_path / 'synthetic'
    generate_synthetic_amodal(str(data), num_train=3, num_val=1, seed=1)
    (data / 'train' / '000001.png').write_bytes(b'\x89PNG\r\n\x1a\n cut short')
    cfg = Config.fromfile(osp.join(root, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py'))
    prefix = f'{data}/'
    cfg.merge_from_dict({f'{split}_dataloader.dataset.data_root': prefix
                         for split in ('train', 'val', 'test')})
    results = check_config_images(cfg)
    # val and test share their dataset: checked once
    assert [(c.split, c.num_images, len(c.unreadable)) for c in results] == [
        ('train', 3, 1), ('val', 1, 0)]
    out = format_image_checks(results)
    assert 'train: 3 images, 1 unreadable' in out and 'val: 1 images, 0 unreadable' in out
    images = json.load(open(data / 'annotations' / 'train.json'))['images']
    img_id = next(img['id'] for img in images if img['file_name'].endswith('000001.png'))
    assert f'image {img_id}: {data}/train/000001.png: cannot be decoded' in out
    assert '4 images checked, 1 unreadable' in out
