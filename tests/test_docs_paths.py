"""Every path that a docstring, a comment or a page of the docs names exists.

A reader follows ``docs/benchmarks.md`` from a docstring or ``tools/analysis_tools/...`` from a
page; a path that was moved or renamed sends them nowhere. Checked here: project paths
(``mmorcnn/...``, ``tools/...``, ``configs/...``, ``docs/...``, ``tests/...``, ``resources/...``,
``requirements/...``) in the package, tools, configs, tests and docs, and the relative links of
the Markdown pages. Paths of other repositories (on a line that names one, e.g. the authors'
``github.com/UARK-AICV/AISFormer``, ``configs/KINS-AmodalSeg``) and paths that only exist after an
install or a run (``mmorcnn/.mim``, ``data/``, ``work_dirs/``) are not the project's files.
"""
import glob
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ['README.md', 'Makefile', 'setup.py', 'mmorcnn', 'tools', 'configs', 'docs', 'tests']
SUFFIXES = {'.py', '.md', '.sh', '.yaml', '.yml', '.txt', ''}
PROJECT_PATH = re.compile(
    r'(?<![\w/.$-])((?:mmorcnn|tools|configs|docs|tests|resources|requirements)/[\w./-]*\w)'
    r'([*{]?)')
MARKDOWN_LINK = re.compile(r'\]\(([^)\s#]+)(?:#[^)]*)?\)')
# a line that names another repository speaks of that repository's files
OTHER_REPOSITORY = re.compile(r'github\.com/|\b(?:UARK-AICV|lkeab|trqminh|facebookresearch|'
                              r'open-mmlab|WesleyZhang1991|qqlu|YihongSun)/', re.IGNORECASE)
MADE_BY_INSTALL_OR_RUN = ('mmorcnn/.mim',)


def _sources():
    for name in SOURCES:
        path = ROOT / name
        if path.is_file():
            yield path
            continue
        for file in sorted(path.rglob('*')):
            if file.is_file() and file.suffix in SUFFIXES and '__pycache__' not in file.parts:
                yield file


def _exists(path: str, glob_follows: bool) -> bool:
    if path.startswith(MADE_BY_INSTALL_OR_RUN):
        return True
    if glob_follows:  # `tools/slurm_*.sh`, `configs/orcnn/orcnn_r50_{...}`: some file matches
        return bool(glob.glob(str(ROOT / path) + '*'))
    return (ROOT / path).exists()


def paths_in_line(line: str):
    """(path, whether a glob follows it) of the project paths one line names."""
    if OTHER_REPOSITORY.search(line):
        return []
    return [(m.group(1).rstrip('.'), bool(m.group(2))) for m in PROJECT_PATH.finditer(line)]


def named_paths():
    """(file, line number, path, glob follows) of every project path the sources name."""
    for file in _sources():
        if file == Path(__file__).resolve():
            continue
        for number, line in enumerate(file.read_text(errors='replace').splitlines(), 1):
            for path, glob_follows in paths_in_line(line):
                yield file, number, path, glob_follows


def markdown_links():
    """(page, line number, target) of every relative link of the Markdown pages."""
    for file in _sources():
        if file.suffix != '.md':
            continue
        for number, line in enumerate(file.read_text().splitlines(), 1):
            for match in MARKDOWN_LINK.finditer(line):
                target = match.group(1)
                if '://' in target or target.startswith('mailto:'):
                    continue
                yield file, number, target


def test_every_project_path_named_in_code_and_docs_exists():
    missing = [f'{file.relative_to(ROOT)}:{number}: {path}'
               for file, number, path, glob_follows in named_paths()
               if not _exists(path, glob_follows)]
    assert not missing, 'paths named but not in the project:\n' + '\n'.join(missing)


def test_every_relative_link_of_the_docs_leads_to_a_file():
    broken = [f'{page.relative_to(ROOT)}:{number}: {target}'
              for page, number, target in markdown_links()
              if not (page.parent / target).exists()]
    assert not broken, 'links to nowhere:\n' + '\n'.join(broken)


@pytest.mark.parametrize('line, found', [
    ('see docs/benchmarks.md for the figures', [('docs/benchmarks.md', False)]),
    ('`tools/slurm_*.sh` and tools/train.py.', [('tools/slurm_', True), ('tools/train.py', False)]),
    ('(github.com/UARK-AICV/AISFormer, configs/KINS-AmodalSeg)', []),
    ('a path inside another: /x/docs/a.md, $HOME/tools/b.py', []),
])
def test_the_check_reads_paths_as_a_reader_does(line, found):
    """The check sees the paths a reader sees and leaves other repositories' paths alone."""
    assert paths_in_line(line) == found
