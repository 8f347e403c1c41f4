"""Install mmorcnn.

Besides the package, setup.py places the project's ``tools/`` and ``configs/`` in
``mmorcnn/.mim/`` (as mmdet does) so that ``mim train mmorcnn CONFIG`` and ``mim test mmorcnn
CONFIG --checkpoint CKPT`` find them: symlinks for editable installs, copies for wheels/sdists.

mmcv 2.1.0 is not an install requirement: it has no wheel on PyPI and, built by pip in an
isolated environment, it silently comes without its C++ ops. Install it first (README).
"""
import os
import os.path as osp
import shutil
import sys
import warnings

from setuptools import find_packages, setup
from setuptools.command.editable_wheel import editable_wheel

HERE = osp.dirname(osp.abspath(__file__))
MIM_FILES = ['tools', 'configs']


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    scope = {}
    with open(osp.join(HERE, 'mmorcnn', 'version.py'), encoding='utf-8') as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list:
    """Requirement lines of ``fname``, following ``-r`` includes."""
    reqs = []
    with open(osp.join(HERE, fname), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                reqs += parse_requirements(osp.join(osp.dirname(fname), line[3:].strip()))
            else:
                reqs.append(line)
    return reqs


def add_mim_extension() -> None:
    """Link (editable install) or copy (wheel, sdist) tools/ and configs/ into mmorcnn/.mim."""
    if any(cmd in sys.argv for cmd in ('develop', 'editable_wheel')):
        mode = 'symlink'
    elif any(cmd in sys.argv for cmd in ('sdist', 'bdist_wheel', 'install', 'build', 'build_py')):
        mode = 'copy'
    else:
        return
    mim_path = osp.join(HERE, 'mmorcnn', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(HERE, name)
        dst = osp.join(mim_path, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, mim_path), dst, target_is_directory=True)
                continue
            except OSError:
                warnings.warn(f'cannot link {src} to {dst}; copying it instead')
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


class _WithMimFiles:
    """Wrap an editable strategy so the editable wheel also carries ``mmorcnn/.mim/``.

    mim looks for tools and configs in ``<dist location>/mmorcnn/.mim``; for an editable (PEP 660)
    install the dist location is site-packages, where no ``mmorcnn`` folder exists. The editable
    wheel therefore installs ``site-packages/mmorcnn/.mim`` with copies of tools/ and configs/
    (re-run ``pip install -e .`` after adding configs, or give mim the config's path). The package
    itself still imports from the source tree: the ``.pth`` file puts the project root on
    sys.path, and the regular package found there wins over the ``.mim``-only folder.
    """

    def __init__(self, strategy) -> None:
        self.strategy = strategy

    def __call__(self, wheel, files, mapping) -> None:
        self.strategy(wheel, files, mapping)
        for name in MIM_FILES:
            for root, dirs, fnames in os.walk(osp.join(HERE, name)):
                dirs[:] = [d for d in dirs if d != '__pycache__']
                for fname in fnames:
                    if fname.endswith('.pyc'):
                        continue
                    path = osp.join(root, fname)
                    rel = osp.relpath(path, HERE).replace(os.sep, '/')
                    wheel.write(path, f'mmorcnn/.mim/{rel}')

    def __enter__(self):
        self.strategy.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.strategy.__exit__(*exc)


class MimEditableWheel(editable_wheel):
    """``pip install -e .`` that keeps ``mim train/test mmorcnn`` working (see _WithMimFiles)."""

    def _select_strategy(self, name, tag, build_lib):
        return _WithMimFiles(super()._select_strategy(name, tag, build_lib))


add_mim_extension()

setup(
    name='mmorcnn',
    version=get_version(),
    description='ORCNN amodal instance segmentation (amodal, visible and invisible masks) '
    'as an MMDetection 3.x plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    keywords='amodal instance segmentation, occlusion, ORCNN, mmdetection',
    python_requires='>=3.8',
    packages=find_packages(include=['mmorcnn', 'mmorcnn.*']),
    # a plain path entry for editable installs (see MimEditableWheel)
    package_dir={'': '.'},
    cmdclass={'editable_wheel': MimEditableWheel},
    include_package_data=True,
    package_data={'mmorcnn': ['.mim/tools/**/*', '.mim/configs/**/*']},
    install_requires=parse_requirements('requirements/runtime.txt') + [
        'mmengine==0.10.7', 'mmdet==3.3.0'
    ],
    extras_require={
        'tests': parse_requirements('requirements/tests.txt'),
        'mim': parse_requirements('requirements/mminstall.txt'),
        'deploy': parse_requirements('requirements/deploy.txt'),
    },
    zip_safe=False,
)
