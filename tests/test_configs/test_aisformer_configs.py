"""The AISFormer configs: the tiny synthetic one matches the tiny ORCNN but for the mask head, the
real-dataset ones train on the schedules of the authors' configs."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmdet.registry import MODELS

import mmorcnn  # noqa: F401
from .test_configs import ROOT, _dataset_of

AISFORMER_DIR = osp.join(ROOT, 'configs', 'aisformer')
TINY = osp.join(AISFORMER_DIR, 'aisformer_r18_fpn_tiny_synthetic.py')
TINY_ORCNN = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
# the authors' Detectron2 configs: (iterations, images per batch, lr, lr steps)
SCHEDULES = {'d2sa': (70000, 2, 0.005, [40000, 60000]),
             'cocoa-cls': (20000, 2, 0.0005, [5000, 8000]),
             'kins': (48000, 1, 0.0025, [30000, 40000])}
REAL = sorted(p for p in glob.glob(osp.join(AISFORMER_DIR, '*.py')) if p != TINY)


def _occluder_loading(pipeline: list) -> dict:
    return next(step for step in pipeline if step['type'] == 'LoadAmodalAnnotations')


def _without_mask_head(cfg: Config) -> dict:
    d = cfg.to_dict()
    roi_head = d['model']['roi_head']
    for key in [k for k in roi_head if 'mask_head' in k] + ['type']:
        roi_head.pop(key)
    _occluder_loading(d['train_dataloader']['dataset']['pipeline']).pop('with_occluder', None)
    d.pop('train_pipeline')
    # the variables of the heads' base files (orcnn_roi_head, aisformer_roi_head, ...)
    return {k: v for k, v in d.items() if not k.startswith(('orcnn_', 'aisformer_', 'occluder_'))}


def test_an_aisformer_config_per_dataset():
    assert sorted(_dataset_of(p) for p in REAL) == sorted(SCHEDULES)


def test_tiny_config_is_tiny_orcnn_but_for_the_mask_heads():
    tiny, orcnn = Config.fromfile(TINY), Config.fromfile(TINY_ORCNN)
    assert _without_mask_head(tiny) == _without_mask_head(orcnn)  # backbone, budget, data
    head = tiny.model.roi_head
    assert head.type == 'AmodalRoIHead' and head.mask_head.type == 'AISFormerMaskHead'
    assert head.mask_head.conv_out_channels == orcnn.model.roi_head.mask_head.conv_out_channels


@pytest.mark.parametrize('path', REAL, ids=[osp.basename(p) for p in REAL])
def test_schedule_of_the_authors_configs(path):
    cfg = Config.fromfile(path)
    iters, batch, lr, steps = SCHEDULES[_dataset_of(path)]
    assert cfg.train_cfg.type == 'IterBasedTrainLoop' and cfg.train_cfg.max_iters == iters
    assert cfg.train_dataloader.batch_size == batch
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    assert cfg.auto_scale_lr.base_batch_size == batch
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum, optimizer.weight_decay) == (
        'SGD', lr, 0.9, 0.0001)
    multistep = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR']
    assert len(multistep) == 1 and multistep[0].milestones == steps
    assert multistep[0].gamma == 0.1 and multistep[0].end == iters
    warmup = [s for s in cfg.param_scheduler if s.type == 'LinearLR']
    assert len(warmup) == 1 and (warmup[0].start_factor, warmup[0].end) == (0.001, 1000)
    # ImageNet-initialised backbone, nothing loaded over it
    assert cfg.load_from is None
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained',
                                               checkpoint='torchvision://resnet50')
    # the occluder targets of the occluder loss, and the ORCNN configs' pipeline otherwise
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert _occluder_loading(pipeline).with_occluder is True
    orcnn = Config.fromfile(osp.join(ROOT, 'configs', 'orcnn',
                                     f'orcnn_r50_fpn_10k_{_dataset_of(path)}.py'))
    assert [dict(step, with_occluder=True) if step['type'] == 'LoadAmodalAnnotations' else step
            for step in orcnn.train_dataloader.dataset.pipeline] == pipeline
    head = cfg.model.roi_head.mask_head
    assert (head.type, head.num_convs, head.conv_out_channels, head.num_heads) == (
        'AISFormerMaskHead', 1, 256, 2)
    assert head.dropout == 0.1


@pytest.mark.parametrize('path', [TINY] + REAL, ids=osp.basename)
def test_config_builds_the_aisformer_heads(path):
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None  # no download
    model = MODELS.build(cfg.model)
    assert type(model.roi_head).__name__ == 'AmodalRoIHead'
    head = model.roi_head.mask_head
    assert type(head).__name__ == 'AISFormerMaskHead'
    assert set(head.mask_losses) == {'occluder', 'visible', 'amodal', 'invisible'}
    assert head.roi_feat_size == (14, 14)
    width = cfg.model.roi_head.mask_head.conv_out_channels
    assert head.query_embed.weight.shape == (3, width)
    assert head.encoder.layers[0].ffn.layers[0][0].out_features == 8 * width
    with torch.no_grad():
        assert head.eval()(torch.rand(2, head.in_channels, 14, 14)).shape == (2, 4, 28, 28)
