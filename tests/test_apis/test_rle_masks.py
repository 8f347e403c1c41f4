"""Large images: masks pasted a few detections at a time and kept as RLEs give the predictions
of the one-pass paste (same instances, masks and occlusion order), drawn at a bounded size."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmorcnn  # noqa: F401
from mmorcnn.apis import AmodalInferencer
from mmorcnn.datasets.synthetic import generate_synthetic_amodal
from mmorcnn.models import AmodalMaskHead, mask_paste
from mmorcnn.structures import occlusion_graph
from mmorcnn.structures.mask_utils import masks_to_rles

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ORCNN = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
AMODAL_MRCNN = osp.join(ROOT, 'configs', 'amodal_mask_rcnn',
                        'amodal-mask-rcnn_r18_fpn_tiny_synthetic.py')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    out = tmp_path_factory.mktemp('rle')
    generate_synthetic_amodal(str(out), num_train=1, num_val=2, seed=7)
    init_default_scope('mmdet')
    torch.manual_seed(0)
    cfg = Config.fromfile(ORCNN)
    model = MODELS.build(cfg.model)
    ckpt = str(out / 'orcnn.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=tuple('abcdef')))), ckpt)
    cfg.model.test_cfg.rcnn.max_per_img = 12
    cfg.model.test_cfg.rcnn.score_thr = 0.0
    return cfg, ckpt, sorted(str(p) for p in (out / 'val').iterdir())


def test_deprecated_names_warn_and_answer_as_before():
    with pytest.warns(DeprecationWarning, match='rle_masks.needs_chunks is deprecated'):
        from mmorcnn.apis.rle_masks import needs_chunks
    with pytest.warns(DeprecationWarning, match='rle_masks.chunk_size is deprecated'):
        from mmorcnn.apis.rle_masks import chunk_size
    assert chunk_size is mask_paste.chunk_size
    assert not needs_chunks([dict(ori_shape=(192, 192))], 100, 2**28)
    assert needs_chunks([dict(ori_shape=(6000, 6000))], 50, 2**28)


def test_deprecated_context_sets_the_test_cfg_key_while_open():
    with pytest.warns(DeprecationWarning, match='rle_mask_prediction is deprecated'):
        from mmorcnn.apis.rle_masks import rle_mask_prediction
    roi_head = MODELS.build(Config.fromfile(ORCNN).model).roi_head
    assert 'max_mask_pixels' not in roi_head.test_cfg
    with rle_mask_prediction(roi_head, 1000):
        assert roi_head.test_cfg.max_mask_pixels == 1000
    assert 'max_mask_pixels' not in roi_head.test_cfg
    roi_head.test_cfg.max_mask_pixels = 7
    with rle_mask_prediction(roi_head, 1000):
        assert roi_head.test_cfg.max_mask_pixels == 1000
    assert roi_head.test_cfg.max_mask_pixels == 7


def test_chunked_rle_predictions_equal_the_one_pass_predictions(setup):
    cfg, ckpt, images = setup
    whole = AmodalInferencer(cfg.copy(), ckpt, device='cpu', show_progress=False)
    chunked = AmodalInferencer(cfg.copy(), ckpt, device='cpu', show_progress=False,
                               max_mask_pixels=3 * 192 * 192 * 5)  # 5 detections at a time
    want = whole(images)['predictions']
    got = chunked(images)['predictions']
    samples = chunked(images, return_datasamples=True)['predictions']
    assert all(isinstance(s.pred_instances.masks, list) for s in samples)
    assert [len(p['instances']) for p in got] == [len(p['instances']) for p in want] == [12, 12]
    for a, b in zip(want, got):
        for x, y in zip(a['instances'], b['instances']):
            assert x['bbox'] == pytest.approx(y['bbox'])
            for key in ('segmentation', 'visible_mask', 'invisible_mask', 'occluded_by',
                        'depth'):
                assert x[key] == y[key], key


def test_inferencer_sets_the_key_and_pastes_mmdet_mask_heads_in_chunks_too(tmp_path):
    """AmodalMRCNN (mmdet's StandardRoIHead and FCNMaskHead) is built with AmodalMaskHead,
    FCNMaskHead with mmorcnn's paste: the same weights and masks, kept as RLEs when large."""
    init_default_scope('mmdet')
    torch.manual_seed(0)
    cfg = Config.fromfile(AMODAL_MRCNN)
    ckpt = str(tmp_path / 'mrcnn.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict(),
                    meta=dict(dataset_meta=dict(classes=tuple('abcdef')))), ckpt)
    cfg.model.test_cfg.rcnn.max_per_img = 12
    cfg.model.test_cfg.rcnn.score_thr = 0.0
    images = [np.random.default_rng(i).integers(0, 255, (192, 192, 3), np.uint8)
              for i in range(2)]
    unset = AmodalInferencer(cfg.copy(), ckpt, device='cpu', show_progress=False,
                             max_mask_pixels=None)
    assert 'max_mask_pixels' not in unset.model.roi_head.test_cfg
    assert not isinstance(unset.model.roi_head.mask_head, AmodalMaskHead)
    chunked = AmodalInferencer(cfg.copy(), ckpt, device='cpu', show_progress=False,
                               max_mask_pixels=192 * 192 * 5)  # one kind, 5 at a time
    assert chunked.model.roi_head.test_cfg.max_mask_pixels == 192 * 192 * 5
    assert isinstance(chunked.model.roi_head.mask_head, AmodalMaskHead)
    samples = chunked(images, return_datasamples=True)['predictions']
    assert all(isinstance(s.pred_instances.masks, list) for s in samples)
    want, got = unset(images)['predictions'], chunked(images)['predictions']
    assert [len(p['instances']) for p in got] == [len(p['instances']) for p in want] == [12, 12]
    for a, b in zip(want, got):
        assert a['instances'] == b['instances']


def test_occlusion_graph_of_rles_is_that_of_the_masks():
    rng = np.random.default_rng(1)
    amodal = rng.random((6, 30, 40)) > 0.4
    visible = amodal & (rng.random((6, 30, 40)) > 0.5)
    want = occlusion_graph(amodal, visible)
    got = occlusion_graph(masks_to_rles(amodal), masks_to_rles(visible))
    np.testing.assert_array_equal(got.occluders, want.occluders)
    np.testing.assert_array_equal(got.depth, want.depth)


def test_large_images_are_drawn_scaled_down_from_rles():
    from mmdet.registry import VISUALIZERS
    from mmdet.structures import DetDataSample
    visualizer = VISUALIZERS.build(dict(type='AmodalDetLocalVisualizer', name='rle_vis',
                                        max_size=100, min_size=0))
    visualizer.dataset_meta = dict(classes=('a', ))
    masks = np.zeros((2, 300, 200), bool)
    masks[0, 10:100, 10:60] = masks[1, 150:290, 100:190] = True
    sample = DetDataSample()
    sample.pred_instances = InstanceData(
        masks=masks_to_rles(masks), visible_masks=masks_to_rles(masks),
        bboxes=torch.tensor([[10., 10, 60, 100], [100, 150, 190, 290]]),
        labels=torch.tensor([0, 0]), scores=torch.tensor([.9, .8]))
    image = np.full((300, 200, 3), 40, np.uint8)
    visualizer.add_datasample('x', image, sample, draw_gt=False, pred_score_thr=0.5)
    drawn = visualizer.get_image()
    assert drawn.shape[:2] == (100, 67)
    assert (drawn[5:30, 5:18] != 40).any() and (drawn[60:95, 40:60] != 40).any()
