"""AmodalRunner: nothing is lost (write-then-rename checkpoints, --resume past an unreadable or
cut-off checkpoint, the same losses as the uninterrupted run) and nothing runs that does not fit
(checkpoint against model, heads against dataset, writable directories), all before the first
iteration."""
import glob
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmdet.registry import RUNNERS
from mmengine.config import Config

import mmorcnn  # noqa: F401
from mmorcnn.engine import (AmodalRunner, CheckpointMismatchError, CheckpointReadError,
                            ClassCountError, WorkDirError)
from mmorcnn.utils.checkpoint import checkpoint_problem
from test_tools.test_mim_train_test import _data_options, tiny_data  # noqa: F401 (fixture)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ORCNN = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
AMODAL_MRCNN = osp.join(ROOT, 'configs', 'amodal_mask_rcnn',
                        'amodal-mask-rcnn_r18_fpn_tiny_synthetic.py')
TRAIN = osp.join(ROOT, 'tools', 'train.py')


def _options(data_root: str, max_iters: int) -> list:
    """Tiny data, one checkpoint per iteration, every loss logged, no validation (for the
    command line)."""
    return _data_options(data_root) + [
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_begin=1000000',
        'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.max_keep_ckpts=5']


def _cfg(config: str, data_root: str, work_dir: str, max_iters: int = 2, **extra) -> Config:
    """The config with the settings of :func:`_options`."""
    cfg = Config.fromfile(config)
    root = data_root.rstrip('/') + '/'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].update(num_workers=0, persistent_workers=False)
        cfg[key].dataset.data_root = root
    cfg.train_dataloader.batch_size = 2
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = f'{root}annotations/val.json'
    cfg.train_cfg.update(max_iters=max_iters, val_begin=1000000)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=5)
    cfg.work_dir = work_dir
    cfg.merge_from_dict(extra)
    return cfg


def _runner(cfg: Config) -> AmodalRunner:
    runner = RUNNERS.build(cfg)
    assert isinstance(runner, AmodalRunner)
    return runner


def _losses(work_dir: str) -> dict:
    """{iteration: logged loss} of the run(s) in ``work_dir``."""
    losses = {}
    for path in sorted(os.popen(f'ls {work_dir}/*/vis_data/scalars.json').read().split()):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if 'loss' in record:
                    losses[record['iter']] = record['loss']
    return losses


@pytest.fixture(scope='module')
def uninterrupted(tiny_data, tmp_path_factory):
    """Four iterations without interruption, a checkpoint after each."""
    work_dir = str(tmp_path_factory.mktemp('uninterrupted'))
    _runner(_cfg(ORCNN, tiny_data, work_dir, max_iters=4)).train()
    return work_dir


class TestCheckpointWrites:

    def test_checkpoints_are_complete_and_leave_no_partial_file(self, uninterrupted):
        names = sorted(os.listdir(uninterrupted))
        assert [n for n in names if n.endswith('.pth')] == [f'iter_{i}.pth' for i in (1, 2, 3, 4)]
        assert not [n for n in names if 'partial' in n]
        assert all(checkpoint_problem(osp.join(uninterrupted, f'iter_{i}.pth')) is None
                   for i in (1, 2, 3, 4))
        ckpt = torch.load(osp.join(uninterrupted, 'iter_4.pth'), map_location='cpu')
        assert ckpt['meta']['iter'] == 4 and 'random_states' in ckpt['meta']

    def test_kill_during_a_write_then_resume_from_the_newest_intact_checkpoint(
            self, tiny_data, uninterrupted, tmp_path):
        """SIGKILL while iteration 3's checkpoint is being written: iter_2 stays the last
        checkpoint; --resume continues from it and gives the uninterrupted run's losses."""
        work_dir = str(tmp_path / 'killed')
        driver = (
            'import os, runpy, sys, time\n'
            'from mmengine.fileio.backends import local_backend\n'
            'put = local_backend.LocalBackend.put\n'
            'def slow_put(self, obj, filepath):\n'
            '    if str(filepath).endswith("iter_3.pth.partial"):\n'
            '        with open(filepath, "wb") as f:\n'
            '            f.write(obj[:len(obj) // 2]); f.flush()\n'
            '        print("WRITING-CHECKPOINT", flush=True)\n'
            '        time.sleep(600)\n'
            '    return put(self, obj, filepath)\n'
            'local_backend.LocalBackend.put = slow_put\n'
            f'sys.argv = [{TRAIN!r}] + sys.argv[1:]\n'
            f'runpy.run_path({TRAIN!r}, run_name="__main__")\n')
        args = [ORCNN, '--work-dir', work_dir, '--cfg-options', *_options(tiny_data, 4)]
        proc = subprocess.Popen([sys.executable, '-c', driver, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, cwd=str(tmp_path))
        deadline = time.time() + 500
        for line in proc.stdout:
            if 'WRITING-CHECKPOINT' in line or time.time() > deadline:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert osp.isfile(osp.join(work_dir, 'iter_3.pth.partial')), 'the kill came too early'
        assert not osp.exists(osp.join(work_dir, 'iter_3.pth'))
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            assert f.read().strip().endswith('iter_2.pth')

        resumed = subprocess.run([sys.executable, TRAIN, *args[:3], '--resume', *args[3:]],
                                 capture_output=True, text=True, cwd=str(tmp_path), timeout=600)
        log = resumed.stdout + resumed.stderr
        assert resumed.returncode == 0, log[-3000:]
        assert 'resumed epoch: 0, iter: 2' in log
        assert not osp.exists(osp.join(work_dir, 'iter_3.pth.partial'))
        assert checkpoint_problem(osp.join(work_dir, 'iter_4.pth')) is None
        want, got = _losses(uninterrupted), _losses(work_dir)
        assert [got[i] for i in (3, 4)] == pytest.approx([want[i] for i in (3, 4)], rel=1e-5)

    def test_resume_skips_an_unreadable_latest_checkpoint(self, tiny_data, uninterrupted,
                                                          tmp_path, caplog):
        work_dir = str(tmp_path / 'work')
        shutil.copytree(uninterrupted, work_dir, ignore=shutil.ignore_patterns('2*'))
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(osp.join(work_dir, 'iter_4.pth'))
        with open(osp.join(work_dir, 'iter_4.pth'), 'r+b') as f:  # cut short
            f.truncate(os.path.getsize(osp.join(work_dir, 'iter_4.pth')) // 3)
        runner = _runner(_cfg(ORCNN, tiny_data, work_dir, max_iters=4, resume=True))
        runner.train()
        assert runner.iter == 4
        log = open(next(os.popen(f'ls {work_dir}/*/*.log').read().split().__iter__())).read()
        assert 'iter_4.pth is unreadable' in log and f'{work_dir}/iter_3.pth' in log

    def test_resume_with_no_readable_checkpoint_says_so(self, tiny_data, tmp_path):
        work_dir = str(tmp_path)
        with open(osp.join(work_dir, 'iter_1.pth'), 'wb') as f:
            f.write(b'PK\x03\x04 not a checkpoint')
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(osp.join(work_dir, 'iter_1.pth'))
        runner = _runner(_cfg(ORCNN, tiny_data, work_dir, resume=True))
        with pytest.raises(CheckpointReadError, match='no other readable checkpoint'):
            runner.train()


class TestChecksBeforeWork:

    def test_checkpoint_directory_that_cannot_be_written_is_named(self, tiny_data, tmp_path):
        blocker = tmp_path / 'not_a_dir'
        blocker.write_text('a file where the checkpoints should go')
        runner = _runner(_cfg(ORCNN, tiny_data, str(tmp_path / 'work'),
                              default_hooks=dict(checkpoint=dict(out_dir=str(blocker)))))
        with pytest.raises(WorkDirError, match='not_a_dir'):
            runner.train()
        assert runner.iter == 0

    def test_head_class_count_against_the_dataset(self, tiny_data, tmp_path):
        cfg = _cfg(ORCNN, tiny_data, str(tmp_path))
        cfg.model.roi_head.mask_head.num_classes = 3
        runner = _runner(cfg)
        with pytest.raises(ClassCountError) as info:
            runner.train()
        message = str(info.value)
        assert 'roi_head.mask_head.num_classes=3' in message and '6 classes' in message
        assert 'roi_head.bbox_head' not in message
        assert runner.iter == 0

    def test_testing_an_amodal_mrcnn_checkpoint_with_orcnn_stops(self, tiny_data,
                                                                 uninterrupted, tmp_path):
        work_dir = str(tmp_path / 'amodal')
        _runner(_cfg(AMODAL_MRCNN, tiny_data, work_dir, max_iters=1)).train()
        cfg = _cfg(ORCNN, tiny_data, str(tmp_path / 'test'),
                   load_from=osp.join(work_dir, 'iter_1.pth'))
        with pytest.raises(CheckpointMismatchError, match='roi_head.visible_mask_head'):
            _runner(cfg).test()
        cfg.allow_partial_checkpoint = True  # the explicit opt-out
        metrics = _runner(cfg).test()
        assert 'amodal/AP_V' in metrics

    def test_load_from_in_training_initialises_partially_and_logs_it(
            self, tiny_data, uninterrupted, tmp_path):
        cfg = _cfg(AMODAL_MRCNN, tiny_data, str(tmp_path), max_iters=1,
                   load_from=osp.join(uninterrupted, 'iter_1.pth'))
        cfg.model.roi_head.bbox_head.num_classes = 6
        runner = _runner(cfg)
        runner.train()
        log = open(os.popen(f'ls {tmp_path}/*/*.log').read().split()[0]).read()
        assert 'not loaded' in log and 'roi_head.visible_mask_head' in log


def test_two_runs_in_one_process_store_into_their_own_work_dirs(tiny_data, tmp_path):
    """Every config names its visualizer 'visualizer'; each run still gets one of its own, whose
    logged scalars land in that run's work dir."""
    runners = {}
    for name in ('first', 'second'):
        cfg = _cfg(ORCNN, tiny_data, str(tmp_path / name))
        # mmengine names a run's scope and logger by config and second: two runs built within
        # one second need names of their own
        cfg.experiment_name = name
        runners[name] = _runner(cfg)
    first, second = runners['first'], runners['second']
    assert second.visualizer is not first.visualizer
    second.visualizer.add_scalars({'probe': 1.0})
    assert glob.glob(str(tmp_path / 'second' / '*' / 'vis_data' / 'scalars.json'))
    assert not glob.glob(str(tmp_path / 'first' / '*' / 'vis_data' / 'scalars.json'))
