"""demo_summary.py: the summary `make demo` ends with, from mmengine's own logs."""
import json
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'demo_summary.py')


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
