"""Every config parses, is found by mim by its basename and imports mmorcnn."""
import glob
import os.path as osp
from collections import Counter

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p.split(osp.sep))

# classes of each dataset (the heads' num_classes must match for class-specific training)
NUM_CLASSES = {'synthetic': 6, 'd2sa': 60, 'cocoa': 1, 'cocoa_no-stuff': 1, 'cocoa-cls': 80,
               'kins': 7}


def _dataset_of(path: str) -> str:
    name = osp.splitext(osp.basename(path))[0]
    dataset = name.rsplit('_', 2 if name.endswith(('_no-stuff', '_modal-aug')) else 1)[1:]
    return '_'.join(dataset).replace('_modal-aug', '')


def test_config_basenames_are_unique():
    counts = Counter(osp.basename(p) for p in CONFIGS)
    assert not [n for n, c in counts.items() if c > 1]


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_config_parses_imports_mmorcnn_and_matches_its_dataset(path):
    cfg = Config.fromfile(path)
    assert 'mmorcnn' in cfg.custom_imports['imports']
    assert cfg.custom_imports.get('allow_failed_imports') is False
    heads = cfg.model.roi_head
    num_classes = NUM_CLASSES[_dataset_of(path)]
    assert heads.bbox_head.num_classes == num_classes
    mask_heads = [heads[k] for k in heads if k.endswith('mask_head')]
    assert mask_heads and all(h.get('num_classes', num_classes) == num_classes for h in mask_heads)
    assert cfg.val_evaluator.type == 'AmodalCocoMetric'
    assert cfg.val_evaluator.ann_file.endswith('.json')
