"""Fuzzing the readers of annotation and results files through their real entry points.

Seeded random mutations of a small valid annotation file and of a valid results file for it
(wrong types, NaN / inf, huge numbers, truncated text, corrupt RLE strings and counts, missing
keys, wrong sizes, wrong nesting, ids used twice) are fed to ``load_amodal_coco`` (both
``on_error`` modes), to ``AmodalCocoDataset`` and to ``mmorcnn.analysis.eval_amodal`` (``tools/analysis_tools/eval_amodal.py``).
Each case runs in its own forked process under a memory limit (``RLIMIT_AS``) and a timeout,
so that a segfault, a hang or running out of memory in pycocotools shows up as what it is. Every
case must end in success (the input is still legal) or in an ``AmodalAnnotationError`` /
``AmodalResultsError`` that names the mutated file; never a crash, a hang or another exception.
With ``on_error='skip'`` a flaw inside one annotation must never stop loading.

``MMORCNN_FUZZ_CASES`` sets the number of cases per target (default 60: about 30 s on
two cores), ``MMORCNN_FUZZ_SEED`` the seed.
"""
import copy
import faulthandler
import json
import logging
import multiprocessing
import os
import random
import resource
import sys
import time
import traceback
from typing import Any, Callable, List, Optional, Tuple

import numpy as np
import pytest

from mmorcnn.datasets.amodal_format import AmodalAnnotationError, load_amodal_coco
from mmorcnn.evaluation.functional import AmodalResultsError
from mmorcnn.structures.mask_utils import mask_to_rle

NUM_CASES = int(os.environ.get('MMORCNN_FUZZ_CASES', 60))
SEED = int(os.environ.get('MMORCNN_FUZZ_SEED', 20261201))
#: Seconds a case may take; the legal inputs take well under one.
CASE_TIMEOUT = 30
#: Address space a case may add to what the forked process already maps.
MEMORY_LIMIT = 2 * 1024**3
NAMED_ERRORS = (AmodalAnnotationError, AmodalResultsError)

H1, W1, H2, W2 = 30, 40, 25, 35

#: Values a mutation puts in place of a node.
BAD_VALUES = [
    float('nan'), float('inf'), -float('inf'), 1e8, -1e8, 10**30, -1, 0, 1, 0.5, 2.5, True,
    False, None, 'x', '', '0', [], {}, [[]], [1, 2, 3], [[1, 2, 3, 4]], {'size': [1, 1]},
    {'counts': 'a'}, 'high', [float('nan')] * 6, 2**63
]


def _rect(h, w, y1, y2, x1, x2):
    mask = np.zeros((h, w), np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask


def _uncompressed(mask: np.ndarray) -> dict:
    flat = mask.flatten(order='F')
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
    return dict(size=list(mask.shape), counts=np.diff(np.concatenate([[0], edges])).tolist())


def annotation_file() -> dict:
    """A valid canonical file: polygons, compressed and uncompressed RLE, all optional keys."""
    back, front = _rect(H1, W1, 5, 20, 5, 25), _rect(H1, W1, 10, 28, 18, 36)
    crowd = _rect(H1, W1, 24, 29, 1, 8)
    other = _rect(H2, W2, 3, 15, 4, 20)
    return dict(
        images=[dict(id=1, file_name='a.png', height=H1, width=W1),
                dict(id=2, file_name='b.png', height=H2, width=W2)],
        categories=[dict(id=1, name='box'), dict(id=2, name='bar')],
        annotations=[
            dict(id=1, image_id=1, category_id=1, iscrowd=0, segmentation=mask_to_rle(back),
                 visible_mask=mask_to_rle(back & (1 - front)), occlude_rate=0.2, order=2,
                 occluder_ids=[2], bbox=[5, 5, 20, 15]),
            dict(id=2, image_id=1, category_id=2, iscrowd=0,
                 segmentation=[[18, 10, 36, 10, 36, 28, 18, 28]], order=1, bbox=[18, 10, 18, 18]),
            dict(id=3, image_id=1, category_id=1, iscrowd=1, segmentation=_uncompressed(crowd)),
            dict(id=4, image_id=2, category_id=2, segmentation=[[4, 3, 20, 3, 20, 15, 4, 15],
                                                                 [22, 20, 30, 20, 26, 24]],
                 visible_mask=[[4, 3, 12, 3, 12, 15, 4, 15]],
                 invisible_mask=mask_to_rle(other & (1 - _rect(H2, W2, 3, 15, 4, 12))),
                 isstuff=0),
        ])


def results_file() -> list:
    """Valid detections for :func:`annotation_file`, one an uncompressed RLE."""
    masks = [(1, 1, _rect(H1, W1, 5, 20, 5, 24)), (1, 2, _rect(H1, W1, 10, 28, 18, 36)),
             (1, 1, _rect(H1, W1, 0, 6, 0, 9)), (2, 2, _rect(H2, W2, 3, 15, 4, 21))]
    entries = []
    for k, (image_id, cat, mask) in enumerate(masks):
        entries.append(dict(image_id=image_id, category_id=cat, score=0.9 - 0.2 * k,
                            bbox=[0.0, 0.0, 4.0, 4.0],
                            segmentation=_uncompressed(mask) if k == 2 else mask_to_rle(mask),
                            visible_mask=mask_to_rle(mask), invisible_mask=mask_to_rle(0 * mask)))
    return entries


# ----------------------------------------------------------------------------------- mutations
Path = Tuple[Any, ...]


def _nodes(tree, path: Path = ()) -> List[Path]:
    paths = [path]
    if isinstance(tree, dict):
        for key, value in tree.items():
            paths += _nodes(value, path + (key, ))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            paths += _nodes(value, path + (i, ))
    return paths


def _get(tree, path: Path):
    for key in path:
        tree = tree[key]
    return tree


def _set(tree, path: Path, value):
    if not path:
        return value
    _get(tree, path[:-1])[path[-1]] = value
    return tree


def _corrupt_string(rng: random.Random, text: str) -> str:
    pos = rng.randrange(len(text) + 1)
    op = rng.choice(['replace', 'insert', 'delete', 'truncate', 'append'])
    char = chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 32), 0xe9, 0x2603]))
    if op == 'replace' and text:
        pos = min(pos, len(text) - 1)
        return text[:pos] + char + text[pos + 1:]
    if op == 'insert':
        return text[:pos] + char + text[pos:]
    if op == 'delete' and text:
        return text[:pos] + text[pos + 1:]
    if op == 'truncate':
        return text[:pos]
    return text + ''.join(rng.choice('0123456789:;<=>?@ABCPQRSTZ[\\]^_`aoz') for _ in range(3))


def mutate(rng: random.Random, tree) -> Tuple[Any, Optional[str], Path]:
    """A random mutation of ``tree``: ``(new tree, None, path)`` or, for a text-level
    mutation, ``(None, text, ())``. ``path`` is where the tree was changed."""
    tree = copy.deepcopy(tree)
    paths = _nodes(tree)
    kind = rng.choice(['value', 'value', 'value', 'delete', 'duplicate', 'wrap', 'rle', 'rle',
                       'counts', 'size', 'truncate', 'number'])
    if kind == 'truncate':
        text = json.dumps(tree)
        return None, text[:rng.randrange(len(text))], ()
    if kind == 'rle':
        strings = [p for p in paths if p and p[-1] == 'counts' and isinstance(_get(tree, p), str)]
        path = rng.choice(strings)
        return _set(tree, path, _corrupt_string(rng, _get(tree, path))), None, path
    if kind == 'counts':
        runs = [p for p in paths if len(p) > 1 and p[-2] == 'counts'
                and isinstance(_get(tree, p[:-1]), list)]
        if runs:
            path = rng.choice(runs)
            return _set(tree, path, _get(tree, path) + rng.choice([-3, -1, 1, 7, -10**6])), \
                None, path
        kind = 'value'
    if kind == 'size':
        sizes = [p for p in paths if p and p[-1] == 'size']
        path = rng.choice(sizes)
        value = rng.choice([[H1, W1 + 1], [W1, H1], [0, 0], [-H1, -W1], [H1], [H1, W1, 3],
                            [str(H1), W1], [float(H1), W1], [10**9, 10**9]])
        return _set(tree, path, value), None, path
    if kind == 'number':
        numbers = [p for p in paths if p and isinstance(_get(tree, p), (int, float))
                   and not isinstance(_get(tree, p), bool)]
        path = rng.choice(numbers)
        value = _get(tree, path)
        new = rng.choice([value * 1e7, -value, value + 0.5, value * 10**20, value - 10**4])
        return _set(tree, path, new), None, path
    if kind == 'delete':
        keys = [p for p in paths if p and isinstance(_get(tree, p[:-1]), dict)]
        path = rng.choice(keys)
        del _get(tree, path[:-1])[path[-1]]
        return tree, None, path
    if kind == 'duplicate':
        items = [p for p in paths if p and isinstance(_get(tree, p[:-1]), list)]
        path = rng.choice(items)
        _get(tree, path[:-1]).append(copy.deepcopy(_get(tree, path)))
        return tree, None, path[:-1]
    path = rng.choice(paths)
    if kind == 'wrap':
        value = _get(tree, path)
        return _set(tree, path, rng.choice([[value], {'value': value}])), None, path
    return _set(tree, path, copy.deepcopy(rng.choice(BAD_VALUES))), None, path


def write_case(path: str, tree, text: Optional[str]) -> None:
    with open(path, 'w') as f:
        f.write(text if text is not None else json.dumps(tree))


# --------------------------------------------------------------------------- isolated runner
def _limit_memory() -> None:
    with open('/proc/self/status') as f:
        vm_kb = next(int(line.split()[1]) for line in f if line.startswith('VmSize:'))
    limit = vm_kb * 1024 + MEMORY_LIMIT
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _child(conn, target: Callable[[], Any]) -> None:
    faulthandler.disable()  # pytest's handler would print a crash to the terminal
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, 'w')
    logging.disable(logging.CRITICAL)  # loggers made before the fork keep their streams
    try:
        _limit_memory()
        target()
        conn.send(('ok', None, None))
    except NAMED_ERRORS as e:
        conn.send(('named', type(e).__name__, str(e)))
    except BaseException as e:  # noqa: B902  (what must never happen is reported)
        conn.send(('bare', type(e).__name__, traceback.format_exc()[-2000:]))
    os._exit(0)


def run_isolated(target: Callable[[], Any],
                 timeout: float = CASE_TIMEOUT) -> Tuple[str, Optional[str], Optional[str]]:
    """``(outcome, exception type, message)`` of ``target()`` run in a forked process:
    ``ok``, ``named`` (a named error), ``bare`` (any other exception), ``crash`` (the process
    died, e.g. a segfault) or ``hang`` (it ran past ``timeout`` seconds)."""
    ctx = multiprocessing.get_context('fork')
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, target))
    proc.start()
    child.close()
    if not parent.poll(timeout):
        proc.kill()
        proc.join()
        return 'hang', None, None
    try:
        result = parent.recv()
    except EOFError:
        result = None
    proc.join()
    if result is None:
        return 'crash', None, f'exit code {proc.exitcode}'
    return result


# ----------------------------------------------------------------------------------- targets
def _load(path: str, on_error: str) -> Callable[[], Any]:
    return lambda: load_amodal_coco(path, on_error=on_error, logger='silent')


def _dataset(path: str) -> Callable[[], Any]:
    def build():
        from mmdet.registry import DATASETS
        dataset = DATASETS.build(dict(type='AmodalCocoDataset', ann_file=path,
                                      data_prefix=dict(img=''), pipeline=[],
                                      check_image_files=False, on_error='skip',
                                      serialize_data=False))  # its gc.collect takes 0.7 s
        return len(dataset)

    return build


def _eval_amodal(ann_file: str, res_file: str, out: str) -> Callable[[], Any]:
    def run():
        from mmorcnn.analysis.eval_amodal import evaluate_results_file
        evaluate_results_file(ann_file, res_file, out_file=out, on_error='skip')

    return run


def _inside_one_annotation(path: Path) -> bool:
    return len(path) >= 2 and path[0] == 'annotations'


def _check(outcome, kind, message, case: str, mutated_file: str, failures: list) -> None:
    if outcome in ('crash', 'hang', 'bare'):
        failures.append(f'{case}: {outcome} {kind or ""} {message or ""}')
    elif outcome == 'named' and mutated_file not in message:
        failures.append(f'{case}: the {kind} does not name {mutated_file}: {message}')


@pytest.fixture(scope='module', autouse=True)
def warm_parent(tmp_path_factory):
    """The quiet logger of the cases, and the registries filled by one dataset build, so that
    each forked case starts from them rather than building them again."""
    from mmengine.logging import MMLogger
    MMLogger.get_instance('silent', log_level='CRITICAL')
    _dataset(_write(tmp_path_factory.mktemp('warm'), 'base.json', annotation_file()))()


def test_isolated_runner_reports_crashes_hangs_and_memory_exhaustion():
    """The runner itself tells the outcomes apart (so the fuzz tests below can fail)."""
    assert run_isolated(lambda: None)[0] == 'ok'
    assert run_isolated(lambda: os.kill(os.getpid(), 11))[0] == 'crash'
    assert run_isolated(lambda: bytearray(4 * MEMORY_LIMIT))[:2] == ('bare', 'MemoryError')
    assert run_isolated(lambda: json.loads('{'))[:2] == ('bare', 'JSONDecodeError')
    assert run_isolated(lambda: time.sleep(30), timeout=1)[0] == 'hang'


@pytest.mark.timeout(600)
def test_mutated_annotation_files_end_in_success_or_a_named_error(tmp_path):
    rng = random.Random(SEED)
    base = annotation_file()
    results = str(tmp_path / 'results.json')
    write_case(results, results_file(), None)
    assert run_isolated(_load(_write(tmp_path, 'base.json', base), 'raise'))[0] == 'ok'
    failures, outcomes = [], []
    for k in range(NUM_CASES):
        tree, text, path = mutate(rng, base)
        ann_file = _write(tmp_path, f'ann{k}.json', tree, text)
        case = f'annotation case {k} ({"text" if text is not None else path})'
        for mode in ('raise', 'skip'):
            outcome, kind, message = run_isolated(_load(ann_file, mode))
            outcomes.append(outcome)
            _check(outcome, kind, message, f'{case}, on_error={mode}', ann_file, failures)
            if mode == 'skip' and _inside_one_annotation(path) and outcome != 'ok':
                failures.append(f'{case}: on_error=skip stopped at a flaw of one annotation: '
                                f'{message}')
        target = _dataset(ann_file) if k % 2 else _eval_amodal(ann_file, results,
                                                               str(tmp_path / 'm.json'))
        outcome, kind, message = run_isolated(target)
        _check(outcome, kind, message, f'{case}, {"dataset" if k % 2 else "eval_amodal"}',
               ann_file, failures)
    assert not failures, '\n'.join(failures)
    # the mutations reach the validation: most cases are errors, a few stay legal
    assert outcomes.count('named') > len(outcomes) / 4, outcomes


@pytest.mark.timeout(600)
def test_mutated_results_files_end_in_success_or_a_named_error(tmp_path):
    rng = random.Random(SEED + 1)
    ann_file = _write(tmp_path, 'gt.json', annotation_file())
    base = results_file()
    out = str(tmp_path / 'metrics.json')
    assert run_isolated(_eval_amodal(ann_file, _write(tmp_path, 'r.json', base), out))[0] == 'ok'
    failures, outcomes = [], []
    for k in range(NUM_CASES):
        tree, text, path = mutate(rng, base)
        res_file = _write(tmp_path, f'results{k}.json', tree, text)
        outcome, kind, message = run_isolated(_eval_amodal(ann_file, res_file, out))
        outcomes.append(outcome)
        _check(outcome, kind, message, f'results case {k} ({"text" if text else path})',
               res_file, failures)
    assert not failures, '\n'.join(failures)
    assert outcomes.count('named') > len(outcomes) / 2, outcomes


def _write(tmp_path, name: str, tree, text: Optional[str] = None) -> str:
    path = str(tmp_path / name)
    write_case(path, tree, text)
    return path


def test_mutations_cover_every_kind_of_flaw():
    """The seeded mutator produces text and tree mutations of every kind it knows."""
    rng = random.Random(SEED)
    base = annotation_file()
    seen_text = seen_nan = seen_rle = False
    for _ in range(200):
        tree, text, path = mutate(rng, base)
        seen_text |= text is not None
        if tree is not None:
            flat = json.dumps(tree)
            seen_nan |= 'NaN' in flat or 'Infinity' in flat
            seen_rle |= bool(path) and path[-1] == 'counts'
    assert seen_text and seen_nan and seen_rle
