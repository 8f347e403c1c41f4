"""The configs of the occluder-aware methods (AISFormer, BCNet): the tiny synthetic one matches the
tiny ORCNN but for the mask head, the real-dataset ones train on the schedules of the authors'
configs."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmdet.registry import MODELS

import mmorcnn  # noqa: F401
from .test_configs import ROOT, _dataset_of

TINY_ORCNN = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
# per method, the authors' Detectron2 configs: {dataset: (iterations, images per batch, lr,
# lr steps)}, and the datasets whose models start from a COCO Mask R-CNN, not from ImageNet
METHODS = {
    'aisformer': dict(schedules={'d2sa': (70000, 2, 0.005, [40000, 60000]),
                                 'cocoa-cls': (20000, 2, 0.0005, [5000, 8000]),
                                 'kins': (48000, 1, 0.0025, [30000, 40000])},
                      coco_init=()),
    'bcnet': dict(schedules={'d2sa': (70000, 2, 0.005, [40000, 60000]),
                             'cocoa-cls': (10000, 2, 0.0005, [5000, 8000]),
                             'kins': (48000, 1, 0.0025, [30000, 40000])},
                  coco_init=('cocoa-cls', )),
}


def _tiny(method: str) -> str:
    return osp.join(ROOT, 'configs', method, f'{method}_r18_fpn_tiny_synthetic.py')


def _real(method: str) -> list:
    return sorted(p for p in glob.glob(osp.join(ROOT, 'configs', method, '*.py'))
                  if p != _tiny(method))


REAL = [(method, path) for method in METHODS for path in _real(method)]
ALL = [(method, _tiny(method)) for method in METHODS] + REAL


def _ids(cases):
    return [osp.basename(path) for _, path in cases]


def _occluder_loading(pipeline: list) -> dict:
    return next(step for step in pipeline if step['type'] == 'LoadAmodalAnnotations')


def _without_mask_head(cfg: Config) -> dict:
    d = cfg.to_dict()
    roi_head = d['model']['roi_head']
    for key in [k for k in roi_head if 'mask_head' in k] + ['type']:
        roi_head.pop(key)
    _occluder_loading(d['train_dataloader']['dataset']['pipeline']).pop('with_occluder', None)
    d.pop('train_pipeline')
    # the variables of the heads' and pipelines' base files (orcnn_roi_head, bcnet_roi_head, ...)
    return {k: v for k, v in d.items()
            if not k.startswith(('orcnn_', 'occluder_', *(f'{m}_' for m in METHODS)))}


# per method, the mask losses of the tiny config (the head's base file) and of the authors'
# recipes (the R50 configs): {kind: weight}, the RoIs the occluder losses average over
HEAD_LOSSES = {
    # the authors' weights; the R50 configs average as their mask_rcnn_loss
    'aisformer': dict(tiny=(dict(occluder=0.25, visible=1.0, amodal=1.0, invisible=0.25), 'all'),
                      authors=(dict(occluder=0.25, visible=1.0, amodal=1.0, invisible=0.25),
                               'nonempty_and_first')),
    # lkeab/BCNet's effective weights; the R50 configs follow aistron's BCNet: every weight 1,
    # every positive RoI
    'bcnet': dict(tiny=(dict(amodal=1.0, amodal_boundary=1.0, occluder=0.25,
                             occluder_boundary=1.0), 'all'),
                  authors=(dict(amodal=1.0, amodal_boundary=1.0, occluder=1.0,
                                occluder_boundary=1.0), 'all')),
}


def _check_losses(head, method: str, recipe: str) -> None:
    weights, averaging = HEAD_LOSSES[method][recipe]
    assert {kind: loss.loss_weight for kind, loss in head.mask_losses.items()} == weights
    assert head.occluder_loss_avg == averaging


def _check_aisformer_head(head, cfg_head, width: int) -> None:
    assert set(head.mask_losses) == {'occluder', 'visible', 'amodal', 'invisible'}
    assert head.query_embed.weight.shape == (4, width)  # the authors' 4 rows
    assert head.encoder.layers[0].ffn.layers[0][0].out_features == 8 * width
    assert (cfg_head.num_convs, cfg_head.num_heads) == (1, 2)
    with torch.no_grad():
        assert head.eval()(torch.rand(2, head.in_channels, 14, 14)).shape == (2, 4, 28, 28)


def _check_bcnet_head(head, cfg_head, width: int) -> None:
    assert set(head.mask_losses) == {'amodal', 'amodal_boundary', 'occluder',
                                     'occluder_boundary'}
    assert len(head.convs) == len(head.occluder_convs) == 4 and head.nonlocal_after == 2
    assert head.occluder_convs[0].conv.out_channels == width
    with torch.no_grad():
        out = head.eval()(torch.rand(2, head.in_channels, 14, 14))
    assert out.shape == (2, 4 * head.num_classes, 28, 28)


HEAD_CHECKS = {'aisformer': ('AISFormerMaskHead', _check_aisformer_head),
               'bcnet': ('BCNetMaskHead', _check_bcnet_head)}


@pytest.mark.parametrize('method', METHODS)
def test_a_config_per_dataset(method):
    assert sorted(_dataset_of(p) for p in _real(method)) == sorted(METHODS[method]['schedules'])


@pytest.mark.parametrize('method', METHODS)
def test_tiny_config_is_tiny_orcnn_but_for_the_mask_heads(method):
    tiny, orcnn = Config.fromfile(_tiny(method)), Config.fromfile(TINY_ORCNN)
    assert _without_mask_head(tiny) == _without_mask_head(orcnn)  # backbone, budget, data
    head = tiny.model.roi_head
    assert head.type == 'AmodalRoIHead' and head.mask_head.type == HEAD_CHECKS[method][0]
    assert head.mask_head.conv_out_channels == orcnn.model.roi_head.mask_head.conv_out_channels
    assert _occluder_loading(tiny.train_dataloader.dataset.pipeline).with_occluder is True


@pytest.mark.parametrize('method, path', REAL, ids=_ids(REAL))
def test_schedule_of_the_authors_configs(method, path):
    cfg = Config.fromfile(path)
    dataset = _dataset_of(path)
    iters, batch, lr, steps = METHODS[method]['schedules'][dataset]
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
    if dataset in METHODS[method]['coco_init']:
        # a converted Detectron2 COCO Mask R-CNN loaded over every weight, no ImageNet download
        assert cfg.load_from.endswith('.pth') and cfg.model.backbone.init_cfg is None
    else:
        # the MSRA ImageNet R-50 (caffe-style), nothing loaded over it
        assert cfg.load_from is None
        assert cfg.model.backbone.init_cfg == dict(
            type='Pretrained', checkpoint='open-mmlab://detectron2/resnet50_caffe')
    assert cfg.model.backbone.style == 'caffe'
    # the occluder targets of the authors' data preparation; the ORCNN configs' pipeline but for
    # them and the image sizes (docs/recipes.md, tests/test_configs/test_recipes_table.py)
    pipeline = cfg.train_dataloader.dataset.pipeline
    loading = _occluder_loading(pipeline)
    assert loading.with_occluder is True and loading.occluder_rule == 'bcnet'
    orcnn = Config.fromfile(osp.join(ROOT, 'configs', 'orcnn', f'orcnn_r50_fpn_10k_{dataset}.py'))
    resizes = ('Resize', 'RandomChoiceResize')
    assert [step for step in pipeline if step.type not in resizes + ('LoadAmodalAnnotations', )
            ] == [step for step in orcnn.train_dataloader.dataset.pipeline
                  if step.type not in resizes + ('LoadAmodalAnnotations', )]
    head = cfg.model.roi_head.mask_head
    assert head.type == HEAD_CHECKS[method][0] and head.conv_out_channels == 256
    if method == 'aisformer':
        assert head.dropout == 0.1


@pytest.mark.parametrize('method, path', ALL, ids=_ids(ALL))
def test_config_builds_the_heads(method, path):
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None  # no download
    model = MODELS.build(cfg.model)
    assert type(model.roi_head).__name__ == 'AmodalRoIHead'
    head = model.roi_head.mask_head
    head_type, check = HEAD_CHECKS[method]
    assert type(head).__name__ == head_type
    assert head.roi_feat_size == (14, 14)
    check(head, cfg.model.roi_head.mask_head, cfg.model.roi_head.mask_head.conv_out_channels)
    _check_losses(head, method, 'tiny' if path == _tiny(method) else 'authors')
