"""mmorcnn.analysis.demo_summary: the summary `make demo` ends with, from mmengine's own logs;
tools/analysis_tools/demo_summary.py prints it."""
import json
import os.path as osp
import subprocess
import sys

from mmorcnn.analysis import demo_summary

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'demo_summary.py')

RECORDS = [dict(iter=50, loss=4.0), dict(iter=100, loss=3.0), dict(iter=150, loss=2.0),
           dict(iter=1200, loss=1.0), dict(step=1200, lr=0.001)]
METRICS = {'amodal/AP_AV': 0.5012, 'amodal/AP_A': 0.5634, 'amodal/AP_V': 0.6021,
           'amodal/occ_AP_IV50': 0.1549, 'amodal/AP_A_50': 0.8}


def _work_dir(tmp_path, metrics: dict) -> str:
    run = tmp_path / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    (run / 'scalars.json').write_text('\n'.join(
        json.dumps(dict(iter=i, loss=3. - i / 100)) for i in range(1, 11)))
    test = tmp_path / 'test' / '20260101_010000'
    test.mkdir(parents=True)
    (test / '20260101_010000.json').write_text(json.dumps(metrics))
    return str(tmp_path)


def _summary(work_dir: str) -> str:
    proc = subprocess.run([sys.executable, TOOL, work_dir], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_prints_the_occlusion_order_keys(tmp_path):
    out = _summary(_work_dir(tmp_path, {'amodal/AP_AV': 0.33, 'amodal/order_acc': 0.61,
                                        'amodal/order_F1': 0.5725}))
    assert 'occlusion order: order_acc 0.6100  order_F1 0.5725' in out
    assert 'amodal/AP_AV' in out


def test_not_evaluable_order_prints_a_dash(tmp_path):
    out = _summary(_work_dir(tmp_path, {'amodal/AP_AV': 0.33, 'amodal/order_acc': -1.,
                                        'amodal/order_F1': -1.}))
    assert 'occlusion order: order_acc -  order_F1 -' in out


def test_summary_ends_with_the_headline_ap_in_percent_and_the_time():
    lines = demo_summary.format_summary(RECORDS, METRICS, seconds=431.4).splitlines()
    assert lines[-3] == 'AP (%): AP_A 56.3, AP_V 60.2, AP_AV 50.1, occluded AP_IV@0.5 15.5'
    assert lines[-2] == 'time: 431 s (7.2 min)'
    assert lines[-1].startswith('====')


def test_summary_says_whether_the_loss_fell(tmp_path):
    summary, fell = demo_summary.demo_summary(_work_dir(tmp_path, {'amodal/AP_AV': 0.33}))
    assert fell and 'amodal/AP_AV' in summary


def test_summary_reports_iterations_loss_and_every_metric():
    text = demo_summary.format_summary(RECORDS, METRICS)
    assert 'training: 1200 iterations, loss 3.000 (first log entries) -> 2.000' in text
    assert [line.split() for line in text.splitlines() if 'AP_A_50' in line] == [
        ['amodal/AP_A_50', '0.8000']]
    assert 'time:' not in text
