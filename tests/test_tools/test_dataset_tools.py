"""The dataset CLIs, run as commands: --help, and each tool on its fixture with its closing
summary table."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from mmorcnn.datasets.amodal_format import load_amodal_coco
from test_datasets.test_converters.sources import write_json
from test_datasets.test_converters.test_cocoa import cocoa_source, flat_source
from test_datasets.test_converters.test_cocoa_cls import (SQUARE, coco_ann, cocoa_region,
                                                          visible_with, write_pair)
from test_datasets.test_converters.test_d2sa import d2s_file
from test_datasets.test_converters.test_kins import kins_v1
from test_datasets.test_copy_paste import write_source

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = {
    'cocoa2amodal': 'tools/dataset_converters/cocoa2amodal.py',
    'cocoa_cls': 'tools/dataset_converters/cocoa_cls.py',
    'd2sa2amodal': 'tools/dataset_converters/d2sa2amodal.py',
    'kins2amodal': 'tools/dataset_converters/kins2amodal.py',
    'copy_paste_amodal': 'tools/dataset_converters/copy_paste_amodal.py',
    'dataset_stats': 'tools/analysis_tools/dataset_stats.py',
}


def run_tool(name: str, *args: str) -> str:
    """Run the tool ``name`` with ``args``; its standard output (it must succeed)."""
    proc = subprocess.run([sys.executable, osp.join(REPO_ROOT, TOOLS[name]), *args],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def summary_rows(text):
    """``{row name: count}`` of a closing summary table."""
    rows = {}
    for line in text.splitlines():
        name, _, value = line.rstrip().rpartition('  ')
        if value.strip().isdigit():
            rows[name.strip()] = int(value)
    return rows


@pytest.mark.parametrize('name', sorted(TOOLS))
def test_every_tool_has_help(name):
    assert 'usage:' in run_tool(name, '--help')


def test_cocoa2amodal_writes_canonical_file_and_summary(tmp_path):
    src = write_json(tmp_path / 'COCO_amodal_train2014.json', cocoa_source())
    out = str(tmp_path / 'annotations' / 'train_no-stuff.json')
    text = run_tool('cocoa2amodal', src, out, '--no-stuff')
    rows = summary_rows(text)
    assert rows['images'] == 2 and rows['instances'] == 3 and rows['occluded instances'] == 1
    assert rows['stuff regions (--no-stuff)'] == 1
    assert sum(map(len, load_amodal_coco(out).anns_by_image.values())) == 3


def test_cocoa2amodal_reads_a_flat_file_and_reports_disagreements(tmp_path):
    data = flat_source(with_classes=True)
    data['annotations'][1]['occlude_rate'] = 0.9  # the masks say 0.2
    src = write_json(tmp_path / 'COCO_amodal_val2014_with_classes.json', data)
    out = str(tmp_path / 'val.json')
    text = run_tool('cocoa2amodal', src, out)
    rows = summary_rows(text)
    assert 'COCOA cls, flat per instance' in text
    assert rows['instances'] == 3 and rows['stated values kept that disagree with the masks'] == 1
    assert rows['stated occlude_rate off invisible / amodal area by > 0.001'] == 1
    assert 'annotation 101: occlude_rate 0.9' in text
    assert load_amodal_coco(out).anns_by_image[1][1]['occlude_rate'] == 0.9


def test_cocoa_cls_reports_kept_and_dropped(tmp_path):
    cocoa, coco = write_pair(tmp_path, {1: [cocoa_region(visible_with(16)),
                                            cocoa_region(visible_with(12), order=2)]},
                             [coco_ann(7, SQUARE)])
    out = str(tmp_path / 'cls.json')
    text = run_tool('cocoa_cls', cocoa, coco, out)
    assert 'paper 4.2 (train + val)' in text
    rows = summary_rows(text)
    assert rows['kept objects (IoU > 0.75 with a COCO instance)'] == 1
    assert rows['low IoU (<= 0.75 with every COCO instance)'] == 1
    assert load_amodal_coco(out).categories[2]['name'] == 'cup'


def test_d2sa2amodal_merges_and_validates(tmp_path):
    rot0 = write_json(tmp_path / 'D2S_amodal_training_rot0.json', d2s_file(1))
    aug = write_json(tmp_path / 'D2S_amodal_augmented.json', d2s_file(10))
    out = str(tmp_path / 'train.json')
    text = run_tool('d2sa2amodal', rot0, aug, '-o', out)
    assert 'train (paper)' in text  # training rot0 + augmented is Table 5's train split
    rows = summary_rows(text)
    assert (rows['images'], rows['instances'], rows['occluded instances']) == (4, 4, 2)
    assert rows['zero-padded images'] == 0 and rows['skipped'] == 0
    assert len(load_amodal_coco(out).images) == 4


def test_kins2amodal_skips_and_reports_malformed(tmp_path):
    data = kins_v1()
    data['annotations'][0]['image_id'] = 9
    src = write_json(tmp_path / 'instances_train.json', data)
    out = str(tmp_path / 'train.json')
    text = run_tool('kins2amodal', src, out, '--on-error', 'skip')
    rows = summary_rows(text)
    assert rows['instances'] == 1 and rows['skipped'] == 1
    assert "image 9, annotation 1: 'image_id' names no image" in text


def test_copy_paste_and_stats_on_their_output(tmp_path):
    ann_file, img_dir = write_source(tmp_path)
    out_ann, out_img = str(tmp_path / 'aug.json'), str(tmp_path / 'aug')
    text = run_tool(
        'copy_paste_amodal', ann_file, '--img-dir', img_dir, '--out-ann', out_ann,
        '--out-img-dir', out_img, '--num-images', '6', '--objects-per-image', '2', '2', '--seed', '1')
    rows = summary_rows(text)
    assert rows['images'] == 6 and rows['pasted objects'] + rows.get(
        'pastes given up (no placement within max_occlusion 0.9 in 20 tries, or object '
        'larger than the image)', 0) == 12
    stats_json = str(tmp_path / 'stats.json')
    text = run_tool('dataset_stats', ann_file, out_ann, '--names', 'source', 'aug', '--out',
                    stats_json)
    assert 'num imgs w/ occl' in text and 'avg OR / reg (occl) [%]' in text
    with open(stats_json) as f:
        stats = json.load(f)
    assert stats['source']['num_images'] == 4 and stats['aug']['num_images'] == 6
    assert stats['aug']['num_objects'] >= stats['aug']['num_objects_occluded'] > 0
