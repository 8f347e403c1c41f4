"""Layers run one way: the evaluation computes numbers and imports no drawing, inference, running
or analysis code (their callers join them)."""
import ast
import glob
import os.path as osp

import pytest

PACKAGE = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'mmorcnn')
#: The layers above the evaluation.
ABOVE = ('mmorcnn.visualization', 'mmorcnn.apis', 'mmorcnn.engine', 'mmorcnn.analysis')


def imported_modules(path: str) -> list:
    """Every module ``path`` imports, anywhere in it, relative imports resolved."""
    package = osp.relpath(osp.dirname(path), osp.dirname(PACKAGE)).replace(osp.sep, '.')
    modules = []
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split('.')[:len(package.split('.')) - node.level + 1] \
                if node.level else []
            module = '.'.join(base + ([node.module] if node.module else []))
            modules += [module] + [f'{module}.{alias.name}' for alias in node.names]
    return modules


EVALUATION_FILES = sorted(glob.glob(osp.join(PACKAGE, 'evaluation', '**', '*.py'),
                                    recursive=True))


def test_the_check_sees_relative_imports():
    metric = osp.join(PACKAGE, 'evaluation', 'metrics', 'amodal_coco_metric.py')
    assert 'mmorcnn.evaluation.functional' in imported_modules(metric)


@pytest.mark.parametrize('path', EVALUATION_FILES,
                         ids=[osp.relpath(p, PACKAGE) for p in EVALUATION_FILES])
def test_evaluation_imports_no_layer_above_it(path):
    above = [m for m in imported_modules(path) if m.startswith(ABOVE)]
    assert above == []
