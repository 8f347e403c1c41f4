"""The synthetic configs are reproducible: two trainings with the config's seed give the same losses
and the same validation metrics, what `make demo` relies on (without the seed, the random weight
initialisation alone makes the losses differ)."""
import glob
import json
import os.path as osp
import subprocess
import sys

import pytest

from mmorcnn.datasets.synthetic import generate_synthetic_amodal

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
ITERS = 3


def _train(data_root: str, work_dir: str) -> list:
    """Train CONFIG for ITERS iterations (validation at the end); the records of scalars.json."""
    root = data_root.rstrip('/') + '/'
    # the config's data loaders as they are (one worker, shuffling, flips), on the tiny data
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG, '--work-dir', work_dir,
           '--cfg-options', f'train_dataloader.dataset.data_root={root}',
           f'val_dataloader.dataset.data_root={root}',
           f'val_evaluator.ann_file={root}annotations/val.json',
           'train_dataloader.batch_size=2', f'train_cfg.max_iters={ITERS}',
           f'train_cfg.val_interval={ITERS}', 'default_hooks.logger.interval=1',
           f'default_hooks.checkpoint.interval={ITERS}']
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f'training failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    logs = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert len(logs) == 1
    with open(logs[0]) as f:
        return [json.loads(line) for line in f if line.strip()]


def _losses(records: list) -> list:
    return [{k: v for k, v in r.items() if k.startswith('loss')} for r in records if 'loss' in r]


def _metrics(records: list) -> dict:
    return {k: v for r in records for k, v in r.items() if k.startswith('amodal/')}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('reproducible')
    data_root = str(tmp / 'data')
    generate_synthetic_amodal(data_root, num_train=6, num_val=2, seed=2)
    first = _train(data_root, str(tmp / 'first'))
    second = _train(data_root, str(tmp / 'second'))
    return first, second


def test_two_trainings_with_the_config_seed_log_identical_losses(runs):
    first, second = runs
    assert len(_losses(first)) == ITERS
    assert _losses(first) == _losses(second)


def test_two_trainings_with_the_config_seed_give_identical_metrics(runs):
    first, second = runs
    assert 'amodal/AP_A' in _metrics(first)
    assert _metrics(first) == _metrics(second)

