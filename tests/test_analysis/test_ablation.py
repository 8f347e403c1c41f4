"""mmorcnn.analysis.ablation (tools/analysis_tools/ablation_table.py): two tiny configs trained for one iteration and tested;
the table holds the values the metric reported, and a second run redoes nothing. One row over two
seeds in parallel jobs: mean, std and per-seed values; the bar chart; the command lines, local and
through srun."""
import csv
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import yaml

from mmorcnn.analysis import ablation as ablation_table
from mmorcnn.datasets.synthetic import generate_synthetic_amodal

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'ablation_table.py')

ROWS = [('AmodalMRCNN', 'configs/amodal_mask_rcnn/amodal-mask-rcnn_r18_fpn_tiny_synthetic.py'),
        ('ORCNN (w/o L_V)', 'configs/orcnn/orcnn_r18_fpn_wo-v-loss_tiny_synthetic.py')]


def _listing(data_root: str) -> dict:
    root = data_root.rstrip('/') + '/'
    loader = {'dataset.data_root': root, 'num_workers': 0, 'persistent_workers': False}
    options = {f'{split}_dataloader.{k}': v for split in ('train', 'test')
               for k, v in loader.items()}
    options.update({'test_evaluator.ann_file': root + 'annotations/val.json',
                    'train_dataloader.batch_size': 2, 'train_cfg.max_iters': 1,
                    'default_hooks.checkpoint.interval': 1})
    return dict(title='tiny', cfg_options=options,
                rows=[dict(name=n, config=osp.join(ROOT, c)) for n, c in ROWS])


def _run(listing: str, work_dir: str, cfg_options=None, **kwargs) -> list:
    """The table of ``listing``'s rows, as the tool makes it."""
    return ablation_table.run_ablation_table(
        ablation_table.build_listing([listing], cfg_options=cfg_options, work_dir=work_dir),
        **kwargs)


def _metric_dumps(row_dir: str) -> list:
    """The metric output of the row's test runs: mmengine's <timestamp>/<timestamp>.json."""
    return [p for p in glob.glob(osp.join(row_dir, 'test', '*', '*.json'))
            if osp.basename(p)[:-5] == osp.basename(osp.dirname(p))]


@pytest.fixture(scope='module')
def table_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ablation')
    data_root = str(tmp / 'data')
    generate_synthetic_amodal(data_root, num_train=4, num_val=2, seed=1)
    listing = str(tmp / 'tiny.yaml')
    with open(listing, 'w') as f:
        yaml.safe_dump(_listing(data_root), f)
    work_dir = str(tmp / 'work')
    assert [r['name'] for r in _run(listing, work_dir)] == [name for name, _ in ROWS]
    return listing, work_dir


def test_table_values_are_the_metric_outputs(table_run):
    _, work_dir = table_run
    with open(osp.join(work_dir, 'table.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['name'] for r in rows] == [name for name, _ in ROWS]
    for row in rows:
        dumps = _metric_dumps(osp.join(work_dir, ablation_table.slug(row['name'])))
        assert len(dumps) == 1
        with open(dumps[0]) as f:
            reported = json.load(f)
        for key, _ in ablation_table.COLUMNS:
            assert float(row[key]) == reported[f'amodal/{key}']
    amodal_mrcnn, orcnn = rows
    assert float(amodal_mrcnn['occ_AP_IV50']) == -1  # no invisible masks: not evaluable
    assert float(orcnn['occ_AP_IV50']) >= 0


def test_markdown_has_the_paper_columns_in_percent(table_run):
    _, work_dir = table_run
    with open(osp.join(work_dir, 'table.md')) as f:
        lines = f.read().splitlines()
    header = next(line for line in lines if line.startswith('| model'))
    assert header.split('|')[2:-1] == [f' {h} ' for _, h in ablation_table.COLUMNS]
    amodal_mrcnn = next(line for line in lines if line.startswith('| AmodalMRCNN'))
    assert amodal_mrcnn.rstrip().endswith('| - |')


def test_mask_head_params_and_test_time_of_every_run(table_run):
    """The parameters of the mask heads, counted in the models the configs build (ORCNN's
    visible head has the amodal head's architecture: twice AmodalMRCNN's), and a test time."""
    from mmengine.config import Config

    from mmdet.registry import MODELS
    _, work_dir = table_run
    counts = []
    for name, config in ROWS:
        with open(osp.join(work_dir, ablation_table.slug(name), 'metrics.json')) as f:
            metrics = json.load(f)['metrics']
        model = MODELS.build(Config.fromfile(osp.join(ROOT, config)).model)
        heads = [m for n, m in model.roi_head.named_children() if n.endswith('mask_head')]
        assert metrics['mask_head_params'] == sum(p.numel() for h in heads
                                                  for p in h.parameters())
        assert metrics['test_s_per_image'] > 0
        counts.append(metrics['mask_head_params'])
    assert counts[1] == 2 * counts[0]


def test_listing_columns_choose_the_table_and_chart_columns(tmp_path):
    results = _results({'ORCNN': (0.30, 0.34), 'AmodalMRCNN': (0.2, 0.2)}, (0, 1))
    for r, params in zip(results, (101068, 50534)):
        r['values'].update({'amodal/order_acc': [0.5, 0.7], 'mask_head_params': [params] * 2,
                            'test_s_per_image': [0.25, 0.35]})
    columns = ['AP_A', 'order_acc', 'mask_head_params', 'test_s_per_image']
    table = ablation_table.markdown_table(results, columns=columns)
    header = next(line for line in table.splitlines() if line.startswith('| model'))
    assert [h.strip() for h in header.split('|')[2:-1]] == [
        'AP_A', 'order_acc', 'mask-head params', 'test s / image']
    orcnn = next(line for line in table.splitlines() if line.startswith('| ORCNN'))
    assert [c.strip() for c in orcnn.split('|')[2:-1]] == [
        '32.0 ± 2.8', '60.0 ± 14.1', '101,068', '0.300 ± 0.071']
    path = str(tmp_path / 'chart.png')
    ablation_table.bar_chart(results, path, 'columns', columns)  # the metrics in percent
    assert osp.getsize(path) > 0
    listing = tmp_path / 'columns.yaml'
    listing.write_text(yaml.safe_dump(dict(columns=columns, rows=[dict(config='a.py')])))
    assert ablation_table.load_listing(str(listing)).columns == columns
    listing.write_text(yaml.safe_dump(dict(columns='AP_A', rows=[dict(config='a.py')])))
    with pytest.raises(ValueError, match='columns'):
        ablation_table.load_listing(str(listing))


def test_second_run_skips_rows_with_results(table_run, capsys):
    listing, work_dir = table_run
    before = {p: osp.getmtime(p) for p in glob.glob(osp.join(work_dir, '*', 'metrics.json'))}
    _run(listing, work_dir)
    assert capsys.readouterr().out.count('results exist, skipped') == len(ROWS)
    assert {p: osp.getmtime(p) for p in before} == before
    for name, _ in ROWS:
        assert len(_metric_dumps(osp.join(work_dir, ablation_table.slug(name)))) == 1


def test_changed_options_are_not_taken_for_existing_results(table_run, tmp_path):
    listing, work_dir = table_run
    with pytest.raises(RuntimeError, match='another config'):
        _run(listing, work_dir, cfg_options={'train_cfg.max_iters': 2}, only=['AmodalMRCNN'])


def test_listing_rows_need_distinct_names(tmp_path):
    listing = tmp_path / 'bad.yaml'
    listing.write_text(yaml.safe_dump(dict(rows=[dict(name='ORCNN', config='a.py'),
                                                 dict(name='orcnn', config='b.py')])))
    with pytest.raises(ValueError, match='row names must differ'):
        ablation_table.load_listing(str(listing))


# ---- several seeds, parallel jobs, the bar chart ----

SEEDS = (0, 1)


@pytest.fixture(scope='module')
def seeds_run(tmp_path_factory):
    """One row trained once per seed, the two runs in parallel jobs."""
    tmp = tmp_path_factory.mktemp('ablation_seeds')
    data_root = str(tmp / 'data')
    generate_synthetic_amodal(data_root, num_train=4, num_val=2, seed=2)
    spec = _listing(data_root)
    spec['rows'] = spec['rows'][1:]  # ORCNN (w/o L_V)
    listing = str(tmp / 'seeds.yaml')
    with open(listing, 'w') as f:
        yaml.safe_dump(spec, f)
    work_dir = str(tmp / 'work')
    args = dict(listing=listing, work_dir=work_dir, seeds=list(SEEDS), jobs=2)
    assert len(_run(**args)) == 1
    return args, work_dir


def test_seeds_each_train_with_their_seed_in_their_own_dir(seeds_run):
    from mmengine.config import Config
    _, work_dir = seeds_run
    row_dir = osp.join(work_dir, ablation_table.slug(ROWS[1][0]))
    for seed in SEEDS:
        run_dir = osp.join(row_dir, f'seed{seed}')
        assert Config.fromfile(osp.join(run_dir, 'config.py')).randomness.seed == seed
        assert len(_metric_dumps(run_dir)) == 1
        with open(osp.join(run_dir, 'metrics.json')) as f:
            assert json.load(f)['seed'] == seed
    # the seed reached the training: the two models start from different weights
    import torch
    weights = []
    for seed in SEEDS:
        with open(osp.join(row_dir, f'seed{seed}', 'train', 'last_checkpoint')) as f:
            weights.append(torch.load(f.read().strip(), map_location='cpu',
                                      weights_only=False)['state_dict'])
    name = 'roi_head.bbox_head.fc_cls.weight'
    assert not torch.equal(weights[0][name], weights[1][name])


def test_seeds_csv_has_mean_std_and_each_seed(seeds_run):
    _, work_dir = seeds_run
    row_dir = osp.join(work_dir, ablation_table.slug(ROWS[1][0]))
    reported = {}
    for seed in SEEDS:
        with open(_metric_dumps(osp.join(row_dir, f'seed{seed}'))[0]) as f:
            reported[seed] = json.load(f)
    with open(osp.join(work_dir, 'table.csv')) as f:
        (row,) = list(csv.DictReader(f))
    assert row['seeds'] == '0 1'
    for key, _ in ablation_table.COLUMNS:
        values = [reported[s][f'amodal/{key}'] for s in SEEDS]
        for seed, value in zip(SEEDS, values):
            assert float(row[f'{key}_seed{seed}']) == value
        valid = [v for v in values if v >= 0]
        if valid:
            assert float(row[key]) == pytest.approx(sum(valid) / len(valid))
        if len(valid) == 2:
            assert float(row[f'{key}_std']) == pytest.approx(abs(valid[0] - valid[1]) / 2 ** 0.5)


def test_seeds_second_run_skips_every_run(seeds_run, capsys):
    args, work_dir = seeds_run
    _run(**args)
    assert capsys.readouterr().out.count('results exist, skipped') == len(SEEDS)


def test_bar_chart_is_a_png_of_the_table(seeds_run):
    from PIL import Image
    _, work_dir = seeds_run
    with Image.open(osp.join(work_dir, 'table.png')) as image:
        image.verify()
    with Image.open(osp.join(work_dir, 'table.png')) as image:
        assert image.format == 'PNG'
        width, height = image.size
    assert width >= 800 and height >= 400


def _results(values_by_row: dict, seeds=SEEDS) -> list:
    """collect_results' layout for rows whose every column has the given per-seed values."""
    return [dict(name=name, config=f'{name}.py', seeds=list(seeds), runs=[],
                 values={ablation_table.METRIC_PREFIX + k: list(values) for k, _ in
                         ablation_table.COLUMNS})
            for name, values in values_by_row.items()]


def test_mean_and_sample_std_over_seeds():
    mean, std = ablation_table.mean_std([0.30, 0.34, 0.32])
    assert mean == pytest.approx(0.32)
    assert std == pytest.approx(0.02)  # sample std (n - 1)
    assert ablation_table.mean_std([0.4]) == (0.4, None)
    assert ablation_table.mean_std([-1, -1]) == (None, None)  # not evaluable


def test_markdown_cells_are_mean_plus_minus_std_in_percent():
    table = ablation_table.markdown_table(_results({'ORCNN': (0.30, 0.34, 0.32),
                                                   'AmodalMRCNN': (-1, -1, -1)}, (0, 1, 2)))
    orcnn = next(line for line in table.splitlines() if line.startswith('| ORCNN'))
    assert orcnn.split('|')[2].strip() == '32.0 ± 2.0'
    amodal = next(line for line in table.splitlines() if line.startswith('| AmodalMRCNN'))
    assert amodal.split('|')[2].strip() == '-'
    assert 'seeds 0, 1, 2' in table


def test_bar_chart_of_rows_without_spread(tmp_path):
    from PIL import Image
    path = str(tmp_path / 'chart.png')
    ablation_table.bar_chart(_results({'a': (0.5,), 'b': (-1,)}, (None,)), path, 'one run')
    with Image.open(path) as image:
        assert image.format == 'PNG' and image.size[0] >= 800


def test_parallel_jobs_run_at_once_each_in_its_own_slot(monkeypatch):
    """Two runs in flight together (a barrier only two concurrent runs pass), one per GPU."""
    import threading
    barrier = threading.Barrier(2, timeout=30)
    seen = []

    def fake_execute(run, force, launcher, env):
        seen.append(env['CUDA_VISIBLE_DEVICES'])
        barrier.wait()
        return {}

    monkeypatch.setattr(ablation_table, 'execute_run', fake_execute)
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.setattr(ablation_table.os, 'cpu_count', lambda: 8)
    launcher = ablation_table.Launcher()
    slots = ablation_table.job_slots(2, launcher, gpus=['0', '1'])
    assert [s['OMP_NUM_THREADS'] for s in slots] == ['4', '4']
    runs = ablation_table.plan_runs([ablation_table.Row('ORCNN', 'c.py')], 'w', [0, 1])
    failures = ablation_table.run_parallel(runs, slots, False, launcher, lambda run, r: None)
    assert failures == []
    assert sorted(seen) == ['0', '1']


def test_cpu_jobs_share_the_cores(monkeypatch):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.setattr(ablation_table.os, 'cpu_count', lambda: 2)
    slots = ablation_table.job_slots(3, ablation_table.Launcher(), gpus=[])
    assert all(s['OMP_NUM_THREADS'] == '1' and 'CUDA_VISIBLE_DEVICES' not in s for s in slots)


# ---- the command lines of a run: the package's modules, locally or through srun ----

def test_local_commands_run_the_package_modules(tmp_path):
    """Rows run mmorcnn's own modules (no script files), with this Python."""
    run = _slurm_run(tmp_path)
    launcher = ablation_table.Launcher()
    assert ablation_table.train_command(run, resume=True, launcher=launcher) == [
        sys.executable, '-m', 'mmorcnn.engine.train', run.cfg_path, '--work-dir',
        osp.join(run.run_dir, 'train'), '--resume']
    assert ablation_table.test_command(run, 'ckpt.pth', launcher) == [
        sys.executable, '-m', 'mmorcnn.engine.test', run.cfg_path, 'ckpt.pth', '--work-dir',
        osp.join(run.run_dir, 'test')]


@pytest.fixture
def fake_srun(tmp_path, monkeypatch):
    """An `srun` first on PATH that writes its arguments, one per line, to a file."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    record = tmp_path / 'srun_args.txt'
    srun = bin_dir / 'srun'
    srun.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > {record}\n')
    srun.chmod(0o755)
    monkeypatch.setenv('PATH', f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')
    return record


def _slurm_run(tmp_path):
    run = ablation_table.plan_runs([ablation_table.Row('ORCNN (w/o L_V)', 'c.py')],
                                   str(tmp_path / 'work'), [2])[0]
    run.cfg_path = osp.join(run.run_dir, 'config.py')
    return run


def _srun_args(cmd, record) -> list:
    subprocess.run(cmd, check=True, capture_output=True)
    return record.read_text().splitlines()


def test_slurm_training_command(tmp_path, fake_srun):
    run = _slurm_run(tmp_path)
    launcher = ablation_table.Launcher('slurm', partition='gpu', gpus=4, cpus_per_task=6,
                                       srun_args='--quotatype=auto', job_name='t6')
    cmd = ablation_table.train_command(run, resume=True, launcher=launcher)
    assert cmd[0] == 'srun'
    assert _srun_args(cmd, fake_srun) == [
        '-p', 'gpu', '--job-name=t6-orcnn-w-o-l-v-seed2-train', '--gres=gpu:4', '--ntasks=4',
        '--ntasks-per-node=4', '--cpus-per-task=6', '--kill-on-bad-exit=1', '--quotatype=auto',
        sys.executable, '-u', '-m', 'mmorcnn.engine.train', run.cfg_path, '--work-dir',
        osp.join(run.run_dir, 'train'), '--resume', '--launcher', 'slurm']


def test_slurm_test_command(tmp_path, fake_srun):
    run = _slurm_run(tmp_path)
    launcher = ablation_table.Launcher('slurm', partition='gpu', gpus=16, gpus_per_node=8)
    cmd = ablation_table.test_command(run, 'ckpt.pth', launcher)
    assert _srun_args(cmd, fake_srun) == [
        '-p', 'gpu', '--job-name=ablation-orcnn-w-o-l-v-seed2-test', '--gres=gpu:8',
        '--ntasks=16', '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1',
        sys.executable, '-u', '-m', 'mmorcnn.engine.test', run.cfg_path, 'ckpt.pth',
        '--work-dir', osp.join(run.run_dir, 'test'), '--launcher', 'slurm']


def test_slurm_options_are_those_of_the_slurm_scripts(tmp_path, fake_srun):
    """The Launcher's srun jobs and tools/slurm_train.sh / slurm_test.sh (the user's commands)
    ask srun for the same resources; the scripts start tools/train.py / tools/test.py (through
    tools/slurm_run.sh)."""
    run = _slurm_run(tmp_path)
    launcher = ablation_table.Launcher('slurm', partition='gpu', gpus=16, gpus_per_node=8,
                                       cpus_per_task=6, srun_args='--quotatype=auto')
    env = dict(os.environ, GPUS='16', GPUS_PER_NODE='8', CPUS_PER_TASK='6',
               SRUN_ARGS='--quotatype=auto', PYTHON=sys.executable)
    train_dir, test_dir = osp.join(run.run_dir, 'train'), osp.join(run.run_dir, 'test')
    for stage, command, script_args, program_args in (
            ('train', ablation_table.train_command(run, False, launcher), [train_dir],
             [f'--work-dir={train_dir}', '--launcher=slurm']),
            ('test', ablation_table.test_command(run, 'ckpt.pth', launcher),
             ['ckpt.pth', '--work-dir', test_dir],
             ['ckpt.pth', '--work-dir', test_dir, '--launcher=slurm'])):
        srun_options = _srun_args(command, fake_srun)[:9]  # up to the program
        assert srun_options[-1] == '--quotatype=auto'
        subprocess.run(['bash', osp.join(ROOT, 'tools', f'slurm_{stage}.sh'), 'gpu',
                        f'ablation-orcnn-w-o-l-v-seed2-{stage}', run.cfg_path, *script_args],
                       env=env, check=True, capture_output=True)
        assert fake_srun.read_text().splitlines() == srun_options + [
            sys.executable, '-u', osp.join(ROOT, 'tools', f'{stage}.py'), run.cfg_path,
            *program_args]


def test_cli_slurm_needs_a_partition():
    proc = subprocess.run([sys.executable, TOOL, 'a.yaml', '--launcher', 'slurm'],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and '--launcher slurm needs --partition' in proc.stderr
