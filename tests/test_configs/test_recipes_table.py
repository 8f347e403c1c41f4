"""docs/recipes.md states, per config, the value of each setting and the authors' value: every
stated value is checked against the config it names, so that the page cannot go stale.

Image sizes are measured, not read: the config's resize steps run on an image of the dataset's
size. The authors' sizes are recomputed from the Detectron2 keys the page cites, with Detectron2's
``ResizeShortestEdge.get_output_shape`` transcribed here.
"""
import functools
import glob
import os.path as osp
import re

import numpy as np
import pytest
from mmdet.registry import MODELS, TRANSFORMS
from mmengine.config import Config
from torch import nn

import mmorcnn  # noqa: F401
from .test_configs import ROOT, _dataset_of

PAGE = osp.join(ROOT, 'docs', 'recipes.md')
# height, width of the datasets' images
IMAGE_SIZES = {'kins': (375, 1242), 'd2sa': (1440, 1920), 'cocoa-cls': (480, 640),
               'cocoa': (480, 640), 'cocoa_no-stuff': (480, 640)}
RESIZES = ('Resize', 'RandomChoiceResize', 'RandomResize')


def _tables() -> list:
    """``[(config basenames, [row cells])]`` of every table that follows a ``Configs:`` line."""
    tables, configs, rows = [], None, None
    for line in open(PAGE, encoding='utf-8').read().splitlines():
        if line.startswith('Configs:'):
            configs, rows = re.findall(r'`([^`]+\.py)`', line), []
            tables.append((configs, rows))
        elif configs is not None and line.startswith('|'):
            cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
            if cells[0] not in ('setting', '---'):
                rows.append(cells)
        elif rows:  # the table ended
            configs = rows = None
    return tables


def _path(name: str) -> str:
    found = glob.glob(osp.join(ROOT, 'configs', '**', name), recursive=True)
    assert len(found) == 1, f'docs/recipes.md names {name}: {found}'
    return found[0]


def _value(cell: str) -> str:
    spans = re.findall(r'`([^`]+)`', cell)
    assert spans, f'no `value` in {cell!r}'
    return spans[0]


def _sizes(pipeline: list, dataset: str) -> str:
    """The ``WxH`` sizes the pipeline's resize steps give an image of the dataset's size."""
    steps = [TRANSFORMS.build(step) for step in pipeline if step['type'] in RESIZES]
    assert steps, 'no resize step'
    height, width = IMAGE_SIZES[dataset]
    sizes = set()
    for seed in range(200):  # every choice of a random resize
        np.random.seed(seed)
        results = dict(img=np.zeros((height, width, 3), np.uint8), img_shape=(height, width),
                       ori_shape=(height, width))
        for step in steps:
            results = step(results)
        sizes.add(results['img_shape'][::-1])
    return ', '.join(f'{w}x{h}' for w, h in sorted(sizes))


def _step(pipeline: list, kind: str) -> dict:
    return next(step for step in pipeline if step['type'] == kind)


def _scheduler(cfg: Config, kind: str) -> dict:
    found = [s for s in cfg.param_scheduler if s['type'] == kind]
    assert len(found) == 1 and found[0].get('by_epoch') is False
    return found[0]


def _backbone(cfg: Config) -> str:
    backbone = cfg.model.backbone
    bn = ('frozen BN' if not backbone.norm_cfg.get('requires_grad', True)
          and backbone.get('norm_eval', True) else 'trained BN')
    frozen = {-1: 'nothing frozen', 0: 'frozen stem', 1: 'frozen stem and res2'}
    return (f"{backbone.get('style', 'pytorch')}-style R-{backbone.depth}, {bn}, "
            f"{frozen[backbone.get('frozen_stages', -1)]}")


def _input(cfg: Config) -> str:
    pre = cfg.model.data_preprocessor
    order = 'RGB' if pre.get('bgr_to_rgb', False) else 'BGR'
    return (f'{order}, mean {[float(v) for v in pre.mean]}, '
            f'std {[float(v) for v in pre.std]}')


def _init(cfg: Config) -> str:
    if cfg.load_from:
        return f'load_from {cfg.load_from}'
    return cfg.model.backbone.init_cfg.checkpoint


def _occluder_targets(cfg: Config) -> str:
    load = _step(cfg.train_dataloader.dataset.pipeline, 'LoadAmodalAnnotations')
    assert load.get('with_occluder') is True
    rule = load.get('occluder_rule', 'occluder_ids')
    if rule == 'occluder_ids':
        return rule
    return f"{rule}, {load.get('occluder_box', 'visible')} boxes"


@functools.lru_cache(maxsize=None)
def _mask_head(name: str):
    """The mask head the config builds: its losses and transformer as the model has them."""
    return MODELS.build(Config.fromfile(_path(name)).model.roi_head.mask_head)


def _occluder_loss_average(name: str) -> str:
    return {'all': 'all positive RoIs', 'nonempty': 'RoIs with an occluder',
            'nonempty_and_first': 'RoIs with an occluder, then as many first positive RoIs'
            }[_mask_head(name).occluder_loss_avg]


def _loss_weights(name: str) -> str:
    return ', '.join(f"{kind.replace('_', ' ')} {loss.loss_weight}"
                     for kind, loss in _mask_head(name).mask_losses.items())


def _decoder_norm(name: str) -> str:
    norm = _mask_head(name).decoder.post_norm
    return 'none' if isinstance(norm, nn.Identity) else type(norm).__name__


def _transformer_init(name: str) -> str:
    return {'pytorch': 'PyTorch default',
            'xavier': 'Xavier uniform'}[_mask_head(name).transformer_init]


def _warmup(cfg: Config) -> str:
    warmup = _scheduler(cfg, 'LinearLR')
    assert warmup.get('end_factor', 1.0) == 1.0
    return (f"linear, {warmup['end'] - warmup['begin']} iterations, "
            f"from {warmup['start_factor']}")


def _lr_steps(cfg: Config) -> str:
    steps = _scheduler(cfg, 'MultiStepLR')
    assert steps['gamma'] == 0.1 and steps['end'] == cfg.train_cfg.max_iters
    return ', '.join(str(m) for m in steps['milestones'])


def _norm_decay(cfg: Config) -> str:
    decay = cfg.optim_wrapper.optimizer.weight_decay
    mult = cfg.optim_wrapper.get('paramwise_cfg', {}).get('norm_decay_mult', 1.0)
    return f'{decay * mult:g}'


def _test_thresholds(cfg: Config) -> str:
    rcnn = cfg.model.test_cfg.rcnn
    return f'{rcnn.score_thr}, {rcnn.nms.iou_threshold}, {rcnn.max_per_img}'


def _test_size(cfg: Config, dataset: str) -> str:
    size = _sizes(cfg.val_dataloader.dataset.pipeline, dataset)
    assert _sizes(cfg.test_dataloader.dataset.pipeline, dataset) == size
    return size


# setting (the table's first column) -> its value in a loaded config, as the table writes it
SETTINGS = {
    'train sizes': lambda cfg, d: _sizes(cfg.train_dataloader.dataset.pipeline, d),
    'test size': _test_size,
    'horizontal flip': lambda cfg, d: str(
        _step(cfg.train_dataloader.dataset.pipeline, 'RandomFlip').prob),
    'RoIs per image': lambda cfg, d: str(cfg.model.train_cfg.rcnn.sampler.num),
    'RPN pre-NMS top-k per level, train': lambda cfg, d: str(
        cfg.model.train_cfg.rpn_proposal.nms_pre),
    'RPN pre-NMS top-k per level, test': lambda cfg, d: str(cfg.model.test_cfg.rpn.nms_pre),
    'RPN post-NMS top-k per image, train': lambda cfg, d: str(
        cfg.model.train_cfg.rpn_proposal.max_per_img),
    'RPN post-NMS top-k per image, test': lambda cfg, d: str(
        cfg.model.test_cfg.rpn.max_per_img),
    'test score threshold, NMS IoU, detections per image': lambda cfg, d: _test_thresholds(cfg),
    'images per batch': lambda cfg, d: str(cfg.train_dataloader.batch_size),
    'iterations': lambda cfg, d: str(cfg.train_cfg.max_iters),
    'base lr': lambda cfg, d: str(cfg.optim_wrapper.optimizer.lr),
    'lr steps (x0.1)': lambda cfg, d: _lr_steps(cfg),
    'momentum, weight decay': lambda cfg, d: (f'{cfg.optim_wrapper.optimizer.momentum}, '
                                              f'{cfg.optim_wrapper.optimizer.weight_decay}'),
    'warm-up': lambda cfg, d: _warmup(cfg),
    "norm layers' weight decay": lambda cfg, d: _norm_decay(cfg),
    'backbone': lambda cfg, d: _backbone(cfg),
    'input': lambda cfg, d: _input(cfg),
    'initialisation': lambda cfg, d: _init(cfg),
    'occluder targets': lambda cfg, d: _occluder_targets(cfg),
}
# setting -> its value in the mask head a config builds, given the config's basename
HEAD_SETTINGS = {
    'occluder losses averaged over': _occluder_loss_average,
    'mask loss weights': _loss_weights,
    'decoder final norm': _decoder_norm,
    'transformer initialisation': _transformer_init,
    'query embedding rows': lambda name: str(_mask_head(name).query_embed.num_embeddings),
}

TABLES = _tables()
CASES = [(name, row) for configs, rows in TABLES for name in configs for row in rows]


def detectron2_size(height: int, width: int, short: int, max_size: int) -> tuple:
    """``ResizeShortestEdge.get_output_shape`` of Detectron2, as ``(width, height)``."""
    scale = short * 1.0 / min(height, width)
    new_h, new_w = (short, scale * width) if height < width else (scale * height, short)
    if max(new_h, new_w) > max_size:
        scale = max_size * 1.0 / max(new_h, new_w)
        new_h, new_w = new_h * scale, new_w * scale
    return int(new_w + 0.5), int(new_h + 0.5)


def test_the_page_names_every_recipe_config():
    named = {name for configs, _ in TABLES for name in configs}
    expected = {osp.basename(p) for pattern in ('bcnet/*_r50_*.py', 'aisformer/*_r50_*.py',
                                                '*/*_kins.py')
                for p in glob.glob(osp.join(ROOT, 'configs', pattern))}
    assert expected <= named, sorted(expected - named)
    assert all(rows for _, rows in TABLES)


@pytest.mark.parametrize('name, row', CASES, ids=[f'{n}:{r[0]}' for n, r in CASES])
def test_each_stated_value_is_the_configs(name, row):
    setting, authors, source, ours, verdict = row
    if setting in HEAD_SETTINGS:
        value = HEAD_SETTINGS[setting](name)
    else:
        assert setting in SETTINGS, f'docs/recipes.md: unknown setting {setting!r}'
        value = SETTINGS[setting](Config.fromfile(_path(name)), _dataset_of(name))
    assert value == _value(ours), (name, setting)
    if verdict == 'same':
        assert _value(authors) == _value(ours), (name, setting)
    else:  # a reason, which would be stale if the values agreed
        assert verdict and _value(authors) != _value(ours), (name, setting)


SIZE_CASES = [(n, r) for n, r in CASES if r[0] in ('train sizes', 'test size')
              and 'MIN_SIZE' in r[2]]


@pytest.mark.parametrize('name, row', SIZE_CASES, ids=[f'{n}:{r[0]}' for n, r in SIZE_CASES])
def test_the_authors_sizes_follow_from_the_keys_cited(name, row):
    setting, authors, source = row[:3]
    shorts = [int(v) for v in re.search(r'MIN_SIZE_\w+ \(?([\d, ]+)', source).group(1)
              .split(',') if v.strip()]
    max_size = int(re.search(r'MAX_SIZE_\w+ (\d+)', source).group(1))
    height, width = IMAGE_SIZES[_dataset_of(name)]
    sizes = sorted(detectron2_size(height, width, short, max_size) for short in shorts)
    assert _value(authors) == ', '.join(f'{w}x{h}' for w, h in sizes)
