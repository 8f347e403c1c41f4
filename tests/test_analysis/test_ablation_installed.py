"""The ablation tool where users run it: mmorcnn installed by a plain (non-editable) `pip install`
into a folder of its own, the tool and the configs taken from that installation, run from a
directory outside the checkout. A listing of two tiny rows trains and tests each and writes the
table."""
import csv
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import yaml

from mmorcnn.datasets.synthetic import generate_synthetic_amodal
from .test_ablation import ROWS, _listing

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: What a source distribution of the checkout holds (MANIFEST.in, setup.py).
SOURCE_FILES = ('setup.py', 'MANIFEST.in', 'README.md', 'requirements.txt')
SOURCE_DIRS = ('requirements', 'mmorcnn', 'tools', 'configs')


@pytest.fixture(scope='module')
def installed(tmp_path_factory) -> str:
    """``pip install --target`` of a copy of the checkout (the build writes ``mmorcnn/.mim`` and
    ``build/`` into its source, which stays the copy's); the folder that holds ``mmorcnn``."""
    tmp = tmp_path_factory.mktemp('install')
    src = tmp / 'src'
    src.mkdir()
    for name in SOURCE_FILES:
        shutil.copy(osp.join(ROOT, name), src / name)
    for name in SOURCE_DIRS:
        shutil.copytree(osp.join(ROOT, name), src / name, ignore=shutil.ignore_patterns(
            '__pycache__', '*.pyc', '.mim', '*.egg-info'))
    target = str(tmp / 'site')
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--no-build-isolation',
         '--no-index', '--disable-pip-version-check', '--target', target, str(src)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return target


def test_installed_tool_trains_and_tests_the_rows_outside_the_checkout(installed,
                                                                       tmp_path):
    cwd = tmp_path / 'elsewhere'
    cwd.mkdir()
    env = dict(os.environ, PYTHONPATH=installed, OMP_NUM_THREADS='1')
    # the installed package is the one imported here, not the checkout's
    proc = subprocess.run([sys.executable, '-c', 'import mmorcnn; print(mmorcnn.__file__)'],
                          cwd=cwd, env=env, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == osp.join(installed, 'mmorcnn', '__init__.py')

    mim = osp.join(installed, 'mmorcnn', '.mim')
    data_root = str(tmp_path / 'data')
    generate_synthetic_amodal(data_root, num_train=4, num_val=2, seed=4)
    spec = _listing(data_root)
    for row, (_, config) in zip(spec['rows'], ROWS):
        row['config'] = osp.join(mim, config)  # the configs the installation carries
    (cwd / 'tiny.yaml').write_text(yaml.safe_dump(spec))

    proc = subprocess.run(
        [sys.executable, osp.join(mim, 'tools', 'analysis_tools', 'ablation_table.py'),
         'tiny.yaml'], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    work_dir = cwd / 'work_dirs' / 'ablations' / 'tiny'  # the default, under the cwd
    with open(work_dir / 'table.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['name'] for r in rows] == [name for name, _ in ROWS]
    assert all(0 <= float(r['AP_AV']) <= 1 for r in rows)
    table = (work_dir / 'table.md').read_text()
    assert all(f'| {name} |' in table for name, _ in ROWS)
    assert '2 rows in the table' in proc.stdout
