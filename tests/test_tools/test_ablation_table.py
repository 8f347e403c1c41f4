"""tools/analysis_tools/ablation_table.py: two tiny configs trained for one iteration and tested;
the table holds the values the metric reported, and a second run redoes nothing."""
import csv
import glob
import importlib.util
import json
import os.path as osp

import pytest
import yaml

from mmorcnn.datasets.synthetic import generate_synthetic_amodal

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    'ablation_table', osp.join(ROOT, 'tools', 'analysis_tools', 'ablation_table.py'))
ablation_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ablation_table)

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
    assert ablation_table.main([listing, '--work-dir', work_dir]) == 0
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


def test_second_run_skips_rows_with_results(table_run, capsys):
    listing, work_dir = table_run
    before = {p: osp.getmtime(p) for p in glob.glob(osp.join(work_dir, '*', 'metrics.json'))}
    assert ablation_table.main([listing, '--work-dir', work_dir]) == 0
    assert capsys.readouterr().out.count('results exist, skipped') == len(ROWS)
    assert {p: osp.getmtime(p) for p in before} == before
    for name, _ in ROWS:
        assert len(_metric_dumps(osp.join(work_dir, ablation_table.slug(name)))) == 1


def test_changed_options_are_not_taken_for_existing_results(table_run, tmp_path):
    listing, work_dir = table_run
    with pytest.raises(RuntimeError, match='another config'):
        ablation_table.main([listing, '--work-dir', work_dir, '--only', 'AmodalMRCNN',
                             '--cfg-options', 'train_cfg.max_iters=2'])


def test_listing_rows_need_distinct_names(tmp_path):
    listing = tmp_path / 'bad.yaml'
    listing.write_text(yaml.safe_dump(dict(rows=[dict(name='ORCNN', config='a.py'),
                                                 dict(name='orcnn', config='b.py')])))
    with pytest.raises(ValueError, match='row names must differ'):
        ablation_table.load_listing(str(listing))
