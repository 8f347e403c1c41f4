"""mmorcnn.analysis.browse_dataset (tools/analysis_tools/browse_dataset.py) draws the ground truth of an annotation file or of a
config's dataset, one overlay per image (small images upscaled by the visualizer)."""
import glob
import os.path as osp

import mmcv
import pytest

from mmorcnn.analysis.browse_dataset import browse_dataset
from mmorcnn.datasets.synthetic import generate_synthetic_amodal

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_amodal(out, num_train=2, num_val=2, seed=2)
    return out


def test_annotation_file_overlays_every_image_upscaled(data_root, tmp_path):
    from mmorcnn.visualization import AmodalDetLocalVisualizer
    out_dir = str(tmp_path)
    images, _, _ = browse_dataset(osp.join(data_root, 'annotations', 'val.json'),
                                  img_dir=osp.join(data_root, 'val'), output_dir=out_dir)
    assert images == 2
    scale = AmodalDetLocalVisualizer(name='browse_test').upscale_factor(192, 192)
    assert scale == 4
    for image in glob.glob(osp.join(data_root, 'val', '*.png')):
        overlay = mmcv.imread(osp.join(out_dir, osp.basename(image)))
        height, width, channels = mmcv.imread(image).shape
        assert overlay.shape == (scale * height, scale * width, channels)


def test_config_dataset_with_limit(data_root, tmp_path):
    out_dir = str(tmp_path)
    config = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
    images, _, _ = browse_dataset(
        config, phase='val', limit=1, output_dir=out_dir,
        cfg_options={'val_dataloader.dataset.data_root': f'{data_root}/'})
    assert images == 1
    assert len(glob.glob(osp.join(out_dir, '*.png'))) == 1
