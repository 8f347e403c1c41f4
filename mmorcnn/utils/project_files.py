"""Where the project's ``configs/`` are, for the tools whose default is one of them: in a source
checkout next to the package, in an installed package in ``mmorcnn/.mim/`` (where mim finds them,
see ``setup.py``). The package runs no script file: training and testing are
:mod:`mmorcnn.engine.train` and :mod:`mmorcnn.engine.test`."""
import os.path as osp

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def project_path(*parts: str) -> str:
    """The path of a project file, e.g. ``project_path('configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')``.

    The source checkout holding this package comes first (a ``setup.py`` beside ``mmorcnn/``),
    then the copies an installation placed in ``mmorcnn/.mim/``.

    Raises:
        FileNotFoundError: Neither place has the file.
    """
    checkout = osp.dirname(PACKAGE_DIR)
    roots = [osp.join(PACKAGE_DIR, '.mim')]
    if osp.isfile(osp.join(checkout, 'setup.py')):
        roots.insert(0, checkout)
    for root in roots:
        path = osp.join(root, *parts)
        if osp.exists(path):
            return path
    raise FileNotFoundError(f'{osp.join(*parts)} is in none of {roots}: install mmorcnn with '
                            '`pip install .` (or `pip install -e .` in a checkout)')
