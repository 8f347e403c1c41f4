"""`mim train mmorcnn` / `mim test mmorcnn` on a tiny synthetic dataset, and `--resume`.

These run the installed package the way a user does: mim finds the config by its basename and
the tools in mmorcnn/.mim, in a subprocess.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

from mmorcnn.datasets import load_amodal_coco
from mmorcnn.datasets.synthetic import generate_synthetic_amodal
from mmorcnn.evaluation.functional import evaluate_amodal, load_amodal_results

CONFIG = 'orcnn_r18_fpn_tiny_synthetic.py'
#: What AmodalCocoMetric returns and mmdet's CocoMetric does not (docs/metric.md).
AMODAL_KEYS = ('amodal/AP_AV', 'amodal/AP_A', 'amodal/AP_V', 'amodal/occ_AP_AV', 'amodal/occ_AP_A',
               'amodal/occ_AP_V', 'amodal/occ_AP_IV50')
MIM = shutil.which('mim', path=osp.dirname(sys.executable)) or shutil.which('mim')


def _data_options(data_root: str) -> list:
    root = data_root.rstrip('/') + '/'
    return [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_evaluator.ann_file={root}annotations/val.json',
        f'test_evaluator.ann_file={root}annotations/val.json',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
        'train_dataloader.batch_size=2', 'default_hooks.logger.interval=1',
    ]


def _mim(*args: str, cwd: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([MIM, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f'mim {args[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc


def assert_mim_test_gives_amodal_keys(config: str, checkpoint: str, data_root: str,
                                      work_dir: str, keys=AMODAL_KEYS) -> dict:
    """`mim test` of ``checkpoint`` into ``work_dir``: its metric output has every key of
    ``keys``, each a fraction in [0, 1] or -1 where pycocotools has nothing to average."""
    _mim('test', 'mmorcnn', config, '--checkpoint', checkpoint, '--work-dir', work_dir,
         '--cfg-options', *_data_options(data_root), cwd=work_dir)
    runs = [d for d in os.listdir(work_dir) if osp.isdir(osp.join(work_dir, d))]
    assert len(runs) == 1
    with open(osp.join(work_dir, runs[0], runs[0] + '.json')) as f:
        metrics = json.load(f)
    missing = [k for k in keys if k not in metrics]
    assert not missing, f'{missing} missing among the metrics {sorted(metrics)}'
    assert all(metrics[k] == -1 or 0 <= metrics[k] <= 1 for k in keys)
    return metrics


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    out = tmp_path_factory.mktemp('synthetic')
    generate_synthetic_amodal(str(out), num_train=4, num_val=2, seed=3)
    return str(out)


@pytest.fixture(scope='module')
def trained(tiny_data, tmp_path_factory):
    """Two training iterations through `mim train`, checkpoint at iteration 2."""
    work_dir = str(tmp_path_factory.mktemp('work'))
    _mim('train', 'mmorcnn', CONFIG, '--work-dir', work_dir, '--cfg-options',
         *_data_options(tiny_data), 'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
         'default_hooks.checkpoint.interval=2', cwd=work_dir)
    return work_dir


@pytest.mark.skipif(MIM is None, reason='openmim is not installed')
class TestMimTrainTest:

    def test_mim_train_finds_the_config_by_basename_and_writes_a_checkpoint(self, trained):
        ckpt = osp.join(trained, 'iter_2.pth')
        assert osp.isfile(ckpt)
        with open(osp.join(trained, 'last_checkpoint')) as f:
            assert f.read().strip() == ckpt
        # the checkpoint loads with torch's default weights_only=True once mmorcnn is imported
        state = torch.load(ckpt, map_location='cpu')
        assert state['meta']['iter'] == 2
        # both mask heads of ORCNN are saved (the occlusion head has no parameters)
        assert 'roi_head.mask_head.conv_logits.weight' in state['state_dict']
        assert 'roi_head.visible_mask_head.conv_logits.weight' in state['state_dict']

    def test_mim_test_evaluates_orcnn_with_the_amodal_metric(
            self, trained, tiny_data, tmp_path):
        assert_mim_test_gives_amodal_keys(CONFIG, osp.join(trained, 'iter_2.pth'), tiny_data,
                                          str(tmp_path))

    def test_mim_test_plot_dir_gives_the_pr_curves(self, trained, tiny_data, tmp_path):
        """As `make demo` asks: the metric writes the arrays, the default runtime's
        AmodalPRCurvesHook draws them."""
        plot_dir = str(tmp_path / 'plots')
        _mim('test', 'mmorcnn', CONFIG, '--checkpoint', osp.join(trained, 'iter_2.pth'),
             '--work-dir', str(tmp_path), '--cfg-options', *_data_options(tiny_data),
             f'test_evaluator.plot_dir={plot_dir}', cwd=str(tmp_path))
        assert sorted(os.listdir(plot_dir)) == ['pr_curves.npz', 'pr_curves.png']

    def test_mim_test_with_on_error_skip_evaluates_a_bad_object_as_ignored(
            self, trained, tiny_data, tmp_path):
        """The dataset's ``on_error='skip'`` is the metric's too: the run ends, the bad object
        is an ignored region of the evaluation (like a crowd region), counted and logged."""
        data_root = str(tmp_path / 'data')
        shutil.copytree(tiny_data, data_root)
        ann_file = osp.join(data_root, 'annotations', 'val.json')
        with open(ann_file) as f:
            data = json.load(f)
        bad = data['annotations'][0]
        bad['occlude_rate'] = 2.  # no rate in [0, 1]: the loader's error, its mask still usable
        with open(ann_file, 'w') as f:
            json.dump(data, f)
        work_dir = str(tmp_path / 'work')
        os.makedirs(work_dir)
        proc = _mim('test', 'mmorcnn', CONFIG, '--checkpoint', osp.join(trained, 'iter_2.pth'),
                    '--work-dir', work_dir, '--cfg-options', *_data_options(data_root),
                    'test_dataloader.dataset.on_error=skip',
                    f'test_evaluator.outfile_prefix={work_dir}/results', cwd=work_dir)
        log = proc.stdout + proc.stderr
        total = len(data['annotations'])
        assert f'{ann_file}: skipped 1 of {total} annotations: 1 became ignored regions' in log
        assert (f'AmodalCocoMetric evaluates 1 of the 1 skipped annotations of {ann_file} as '
                "ignored regions and leaves out the others (on_error='skip', the dataset's "
                'setting)') in log
        run = next(d for d in os.listdir(work_dir) if osp.isdir(osp.join(work_dir, d)))
        with open(osp.join(work_dir, run, run + '.json')) as f:
            metrics = json.load(f)
        # the run's numbers are those of its detections against the file with the bad object
        # as an ignored region (a crowd region of its amodal mask)
        gt = load_amodal_coco(ann_file, on_error='skip', logger='silent')
        region = next(a for a in gt.anns_by_image[bad['image_id']] if a['id'] == bad['id'])
        assert region['iscrowd'] == 1
        detections = load_amodal_results(f'{work_dir}/results.amodal.json', gt)
        expected = evaluate_amodal(gt.anns_by_image, gt.categories, detections).metrics
        run_metrics = {k: metrics[f'amodal/{k}'] for k in expected}
        assert run_metrics == pytest.approx(expected, abs=1e-12)

    def test_resume_continues_from_the_checkpoint_iteration(self, trained, tiny_data, tmp_path):
        work_dir = str(tmp_path / 'resumed')
        shutil.copytree(trained, work_dir)
        proc = _mim('train', 'mmorcnn', CONFIG, '--work-dir', work_dir, '--resume',
                    osp.join(work_dir, 'iter_2.pth'), '--cfg-options',
                    *_data_options(tiny_data), 'train_cfg.max_iters=3',
                    'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=1',
                    cwd=work_dir)
        log = proc.stdout + proc.stderr
        assert 'resumed epoch: 0, iter: 2' in log
        assert 'Iter(train) [3/3]' in log and 'Iter(train) [1/3]' not in log
        state = torch.load(osp.join(work_dir, 'iter_3.pth'), map_location='cpu')
        assert state['meta']['iter'] == 3
