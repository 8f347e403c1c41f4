"""`tools/dist_train.sh` and `tools/dist_test.sh` with two processes on CPUs (gloo): the tiny
ORCNN trains for two iterations and its checkpoint tests to the numbers of a single-process test;
a launcher that needs CUDA is refused by name where there is none."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmorcnn.engine.launch import LauncherError, setup_launcher
from .test_mim_train_test import AMODAL_KEYS, _data_options, tiny_data  # noqa: F401 (fixture)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _run(cmd: list, cwd: str) -> str:
    """``cmd`` with this Python and without GPUs (the CPU path on any machine); its output."""
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()), OMP_NUM_THREADS='1',
               CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{" ".join(cmd)} failed:\n{out[-4000:]}'
    return out


def _metrics(work_dir: str) -> dict:
    """The test run's metric output: mmengine's <work dir>/<timestamp>/<timestamp>.json (the
    gathering of results across processes leaves mmengine's empty ``.dist_test`` beside it)."""
    (path,) = [osp.join(work_dir, d, d + '.json') for d in os.listdir(work_dir)
               if osp.isfile(osp.join(work_dir, d, d + '.json'))]
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def dist_trained(tiny_data, tmp_path_factory):
    """Two iterations of two training processes, batch 2 each; the checkpoint and the log."""
    work_dir = str(tmp_path_factory.mktemp('dist_train'))
    log = _run(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), CONFIG, '2', '--work-dir',
                work_dir, '--cfg-options', *_data_options(tiny_data), 'train_cfg.max_iters=2',
                'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=2'],
               cwd=work_dir)
    return osp.join(work_dir, 'iter_2.pth'), log


def test_dist_train_runs_two_gloo_processes(dist_trained):
    checkpoint, log = dist_trained
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert "dist_cfg: {'backend': 'gloo'" in log
    state = torch.load(checkpoint, map_location='cpu')
    assert state['meta']['iter'] == 2
    assert 'roi_head.visible_mask_head.conv_logits.weight' in state['state_dict']


def test_dist_test_gives_the_metrics_of_one_process(dist_trained, tiny_data, tmp_path):
    checkpoint, _ = dist_trained
    single, dist = str(tmp_path / 'single'), str(tmp_path / 'dist')
    os.makedirs(single)
    os.makedirs(dist)
    options = ['--cfg-options', *_data_options(tiny_data)]
    _run([sys.executable, osp.join(ROOT, 'tools', 'test.py'), CONFIG, checkpoint, '--work-dir',
          single, *options], cwd=single)
    _run(['bash', osp.join(ROOT, 'tools', 'dist_test.sh'), CONFIG, checkpoint, '2',
          '--work-dir', dist, *options], cwd=dist)
    single_metrics, dist_metrics = _metrics(single), _metrics(dist)
    assert sorted(dist_metrics) == sorted(single_metrics)
    assert all(k in dist_metrics for k in AMODAL_KEYS)
    for key in single_metrics:
        if key.startswith(('amodal/', 'coco/')):
            assert dist_metrics[key] == pytest.approx(single_metrics[key], abs=1e-6), key


@pytest.mark.parametrize('launcher', ['slurm', 'mpi'])
def test_launchers_that_need_cuda_are_refused_without_it(launcher, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(LauncherError, match=f"launcher '{launcher}' needs CUDA"):
        setup_launcher(Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl')))), launcher)
