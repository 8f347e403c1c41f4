"""AmodalInferencer and tools/demo/image_demo.py: the prediction fields, the JSON schema, the
overlays, on ORCNN and on AmodalMRCNN (amodal masks only)."""
import glob
import json
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmorcnn  # noqa: F401
from mmorcnn.apis import AmodalInferencer
from mmorcnn.apis.image_demo import run_image_demo
from mmorcnn.datasets.synthetic import generate_synthetic_amodal
from mmorcnn.structures import occlusion_graph
from mmorcnn.structures.mask_utils import SoftMaskError, rle_to_mask

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ORCNN = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
AMODAL_MRCNN = osp.join(ROOT, 'configs', 'amodal_mask_rcnn',
                        'amodal-mask-rcnn_r18_fpn_tiny_synthetic.py')
CLASSES = ('disc', 'square', 'triangle', 'star', 'cross', 'hexagon')  # the synthetic set's
MASK_KEYS = ('segmentation', 'visible_mask', 'invisible_mask')
INSTANCE_KEYS = {'label', 'category', 'score', 'bbox'}
ORDER_KEYS = ('occluded_by', 'depth')


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_amodal(out, num_train=1, num_val=3, seed=5)
    return osp.join(out, 'val')


def _config(path: str, max_per_img: int = 5) -> Config:
    """The config with few detections per image (a random model's 50 take long to draw)."""
    cfg = Config.fromfile(path)
    cfg.model.test_cfg.rcnn.max_per_img = max_per_img
    return cfg


def _checkpoint(config: str, path: str) -> str:
    """A randomly initialised model saved as a checkpoint with the dataset's classes."""
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES))), path)
    return path


@pytest.fixture(scope='module')
def orcnn_checkpoint(tmp_path_factory):
    return _checkpoint(ORCNN, str(tmp_path_factory.mktemp('ckpt') / 'orcnn.pth'))


@pytest.fixture(scope='module')
def orcnn_inferencer(orcnn_checkpoint):
    return AmodalInferencer(_config(ORCNN), orcnn_checkpoint, device='cpu',
                            show_progress=False)


def _check_schema(pred: dict, image_path: str, mask_keys, order_keys=()) -> None:
    height, width = mmcv.imread(image_path).shape[:2]
    assert pred['img_path'] == image_path
    assert (pred['height'], pred['width']) == (height, width)
    scores = [inst['score'] for inst in pred['instances']]
    assert scores == sorted(scores, reverse=True)
    for inst in pred['instances']:
        assert set(inst) == INSTANCE_KEYS | set(mask_keys) | set(order_keys)
        assert inst['category'] == CLASSES[inst['label']]
        assert len(inst['bbox']) == 4
        for key in mask_keys:
            assert inst[key]['size'] == [height, width]
            assert isinstance(inst[key]['counts'], str)


def test_orcnn_predictions_carry_amodal_visible_invisible_rle_per_instance(
        orcnn_inferencer, images):
    image = osp.join(images, '000000.png')
    result = orcnn_inferencer(image, return_datasamples=False)
    pred, = result['predictions']
    assert pred['instances'], 'a random ORCNN predicts some instances above the test score_thr'
    _check_schema(pred, image, MASK_KEYS, ORDER_KEYS)
    # the RLEs are the model's masks, in score order
    sample, = orcnn_inferencer(image, return_datasamples=True)['predictions']
    order = torch.argsort(sample.pred_instances.scores, descending=True, stable=True)
    for key, name in (('masks', 'segmentation'), ('visible_masks', 'visible_mask'),
                      ('invisible_masks', 'invisible_mask')):
        expected = sample.pred_instances.get(key)[order].numpy().astype(np.uint8)
        decoded = np.stack([rle_to_mask(inst[name]) for inst in pred['instances']])
        np.testing.assert_array_equal(decoded, expected)


def test_orcnn_json_occlusion_order_indexes_the_same_instance_list(orcnn_checkpoint, images):
    cfg = _config(ORCNN, max_per_img=50)  # enough overlapping random masks for relations
    inferencer = AmodalInferencer(cfg, orcnn_checkpoint, device='cpu', show_progress=False)
    image = osp.join(images, '000000.png')
    pred, = inferencer(image, return_datasamples=False)['predictions']
    instances = pred['instances']
    masks = {name: np.stack([rle_to_mask(inst[name]) for inst in instances]).astype(bool)
             for name in MASK_KEYS}
    # the JSON's own masks give the JSON's relations: indices point into the same list
    graph = occlusion_graph(masks['segmentation'], masks['visible_mask'],
                            masks['invisible_mask'])
    assert [inst['occluded_by'] for inst in instances] == \
        [np.flatnonzero(row).tolist() for row in graph.occluders]
    assert any(inst['occluded_by'] for inst in instances)
    sample, = inferencer(image, return_datasamples=True)['predictions']
    order = torch.argsort(sample.pred_instances.scores, descending=True, stable=True)
    assert [inst['depth'] for inst in instances] == sample.pred_instances.depth[order].tolist()


def test_folder_writes_an_overlay_and_a_json_per_image(orcnn_inferencer, images, tmp_path):
    out_dir = str(tmp_path)
    result = orcnn_inferencer(images, out_dir=out_dir, no_save_pred=False)
    names = sorted(osp.basename(p) for p in glob.glob(osp.join(images, '*.png')))
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(out_dir, 'vis', '*'))) == names
    for pred in result['predictions']:
        stem = osp.splitext(osp.basename(pred['img_path']))[0]
        with open(osp.join(out_dir, 'preds', f'{stem}.json')) as f:
            assert json.load(f) == pred
        overlay = mmcv.imread(osp.join(out_dir, 'vis', osp.basename(pred['img_path'])))
        scale = orcnn_inferencer.visualizer.upscale_factor(pred['height'], pred['width'])
        assert overlay.shape[:2] == (scale * pred['height'], scale * pred['width'])


def test_no_detections_give_an_empty_instance_list(orcnn_checkpoint, images, tmp_path):
    cfg = _config(ORCNN)
    cfg.model.test_cfg.rcnn.score_thr = 1.1
    inferencer = AmodalInferencer(cfg, orcnn_checkpoint, device='cpu', show_progress=False)
    image = osp.join(images, '000001.png')
    result = inferencer(image, out_dir=str(tmp_path), no_save_pred=False)
    assert result['predictions'][0]['instances'] == []
    assert osp.isfile(osp.join(str(tmp_path), 'vis', '000001.png'))


def test_soft_masks_are_refused_not_encoded_as_grey_levels(orcnn_checkpoint):
    cfg = _config(ORCNN)
    cfg.model.test_cfg.rcnn.mask_thr_binary = -1
    with pytest.raises(SoftMaskError, match='mask_thr_binary is -1: the mask heads would '
                       'return soft masks'):
        AmodalInferencer(cfg, orcnn_checkpoint, device='cpu', show_progress=False)


def test_amodal_mask_rcnn_predictions_have_amodal_masks_only(images, tmp_path):
    checkpoint = _checkpoint(AMODAL_MRCNN, str(tmp_path / 'amodal_mrcnn.pth'))
    inferencer = AmodalInferencer(_config(AMODAL_MRCNN), checkpoint, device='cpu',
                                  show_progress=False)
    image = osp.join(images, '000002.png')
    pred, = inferencer(image, out_dir=str(tmp_path), no_save_pred=False)['predictions']
    assert pred['instances']
    _check_schema(pred, image, ('segmentation', ))
    assert osp.isfile(osp.join(str(tmp_path), 'vis', '000002.png'))


def test_image_demo_on_a_folder_with_limit(orcnn_checkpoint, images, tmp_path):
    from mmorcnn.apis.image_demo import contact_sheet_cell, run_image_demo
    out_dir = str(tmp_path / 'out')
    ann_file = osp.join(osp.dirname(images), 'annotations', 'val.json')
    out = run_image_demo(images, ORCNN, orcnn_checkpoint, out_dir=out_dir, limit=2,
                         device='cpu', ann_file=ann_file)
    names = ['000000.png', '000001.png']
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(out_dir, 'vis', '*'))) == names
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(out_dir, 'preds', '*'))) == [
        '000000.json', '000001.json']
    assert f'overlays:    {osp.join(out_dir, "vis")} (ground truth | prediction)' in out
    # ground truth | prediction: two upscaled panels side by side
    overlays = [mmcv.imread(osp.join(out_dir, 'vis', n), channel_order='rgb') for n in names]
    scale = 4  # the 192 px images are drawn at 768 px
    assert all(o.shape[1] > 2 * scale * 192 and o.shape[0] > scale * 192 for o in overlays)
    # the contact sheet is the grid of exactly these overlays, one cell per image, in order
    from mmorcnn.visualization import contact_sheet
    cells = [contact_sheet_cell(o, 2) for o in overlays]
    expected, boxes = contact_sheet(cells, names, ncols=2, cell_width=cells[0].shape[1])
    assert len(boxes) == 2
    sheet = mmcv.imread(osp.join(out_dir, 'contact_sheet.png'), channel_order='rgb')
    np.testing.assert_array_equal(sheet, expected)


def test_fixed_palette_without_warning(orcnn_checkpoint):
    """The checkpoint has no palette: the classes get the visualizer's fixed colours, and mmdet's
    'random palette' warning is not raised."""
    import warnings
    from mmorcnn.visualization.amodal_visualizer import DEFAULT_PALETTE
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        inferencer = AmodalInferencer(_config(ORCNN), orcnn_checkpoint, device='cpu',
                                      show_progress=False)
    assert not [w for w in caught if 'palette' in str(w.message)]
    assert inferencer.model.dataset_meta['palette'] == DEFAULT_PALETTE[:len(CLASSES)]


def test_checkpoint_without_the_visible_head_is_refused_unless_allowed(images, tmp_path):
    """An AmodalMRCNN checkpoint run with the ORCNN config would predict visible masks from a
    randomly initialised head: refused, with the modules named; explicitly allowed, it runs."""
    from mmorcnn.engine import CheckpointMismatchError
    checkpoint = _checkpoint(AMODAL_MRCNN, str(tmp_path / 'amodal_mrcnn.pth'))
    with pytest.raises(CheckpointMismatchError, match='roi_head.visible_mask_head'):
        AmodalInferencer(_config(ORCNN), checkpoint, device='cpu', show_progress=False)
    inferencer = AmodalInferencer(_config(ORCNN), checkpoint, device='cpu', show_progress=False,
                                  allow_partial_checkpoint=True)
    pred, = inferencer(osp.join(images, '000000.png'))['predictions']
    assert 'instances' in pred


def test_unreadable_image_is_skipped_with_a_warning_and_the_others_done(
        orcnn_checkpoint, images, tmp_path):
    folder = tmp_path / 'inputs'
    folder.mkdir()
    for name in ('000000.png', '000001.png'):
        (folder / name).write_bytes(open(osp.join(images, name), 'rb').read())
    (folder / '000000b.png').write_bytes(b'<html>a web page saved as png</html>')
    out_dir = str(tmp_path / 'out')
    summary = run_image_demo(str(folder), ORCNN, orcnn_checkpoint, out_dir=out_dir, device='cpu')
    assert '2 image(s)' in summary and '000000b.png' in summary
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(out_dir, 'preds', '*'))) == [
        '000000.json', '000001.json']
    inferencer = AmodalInferencer(_config(ORCNN), orcnn_checkpoint, device='cpu',
                                  show_progress=False)
    preds = inferencer(str(folder))['predictions']
    assert len(preds) == 2
    assert [osp.basename(p) for p, _ in inferencer.skipped_inputs] == ['000000b.png']
    assert 'cannot be decoded' in inferencer.skipped_inputs[0][1]
