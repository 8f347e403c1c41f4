"""Loading mmengine checkpoints under torch >= 2.6.

torch 2.6 changed ``torch.load`` to ``weights_only=True`` by default. mmengine 0.10.7 calls plain
``torch.load`` for ``load_from``, ``--resume`` and ``mim test --checkpoint``, and its own checkpoints
carry a few non-tensor objects in ``meta`` (the message hub's ``HistoryBuffer`` with numpy arrays).
With the new default those checkpoints fail to load.

Rather than switching the safe loader off (``weights_only=False`` would execute arbitrary pickled
code from a downloaded checkpoint), we keep ``weights_only=True`` and allow-list exactly the types
mmengine writes. A checkpoint that needs anything else still fails with torch's message naming
the offending global.

``HistoryBuffer`` pickles its statistics methods as ``getattr(HistoryBuffer, 'mean')``. Allowing
the real ``builtins.getattr`` would let a crafted checkpoint reach any attribute (and from there
``os.system``), so ``builtins.getattr`` is mapped to :func:`_history_buffer_getattr`, which only
returns the statistics methods of a ``HistoryBuffer``.

Pickled checkpoints that are not torch files (Detectron2's model zoo ``.pkl``: numpy arrays) are
read by :func:`load_numpy_pickle` under the same rule: only the types such a file needs.
"""
import codecs
import os
import os.path as osp
import pickle
import re
import zipfile
from collections import OrderedDict
from typing import List, Optional

import numpy as np
import torch


def _numpy_globals() -> List[object]:
    """The numpy reconstructors and dtype classes pickled by numpy arrays and scalars."""
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
        np.uint64, np.float16, np.float32, np.float64, np.str_, np.object_)]
    return [_reconstruct, scalar, np.ndarray, np.dtype] + dtype_classes


class _NumpyUnpickler(pickle.Unpickler):
    """An unpickler that builds only containers and numpy arrays: a pickled checkpoint (Detectron2's
    model zoo ``.pkl``) cannot run code through it, as torch's ``weights_only`` loading does for
    ``.pth`` files. Pickles written by numpy 1.x name ``numpy.core``, those of numpy 2
    ``numpy._core``: both resolve to the running numpy's functions."""

    def find_class(self, module: str, name: str):
        if (module, name) == ('collections', 'OrderedDict'):
            return OrderedDict
        if (module, name) == ('_codecs', 'encode'):  # bytes in protocol 2 (numpy's raw data)
            return codecs.encode
        if module in ('numpy.core.numeric', 'numpy._core.numeric') and name == '_frombuffer':
            try:  # protocol 5 (out-of-band buffers)
                from numpy._core.numeric import _frombuffer
            except ImportError:  # numpy 1.x
                from numpy.core.numeric import _frombuffer
            return _frombuffer
        if module in ('numpy', 'numpy.core.multiarray', 'numpy._core.multiarray', 'numpy.dtypes'):
            for obj in _numpy_globals():
                if getattr(obj, '__name__', None) == name:
                    return obj
        raise pickle.UnpicklingError(
            f'the pickle asks for {module}.{name}; a pickled checkpoint may hold only dicts, '
            'lists, numbers, strings and numpy arrays (see mmorcnn.utils.checkpoint)')


def load_numpy_pickle(filename: str) -> object:
    """Unpickle ``filename`` (``latin1`` strings, as Python 2 pickles need) allowing nothing but
    containers and numpy arrays: Detectron2's ``.pkl`` checkpoints, without the risk of running
    code that a plain ``pickle.load`` of a downloaded file has."""
    with open(filename, 'rb') as f:
        return _NumpyUnpickler(f, encoding='latin1').load()


def _history_buffer_getattr(obj: object, name: str) -> object:
    """``getattr`` restricted to what mmengine pickles: HistoryBuffer's statistics methods."""
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean'} | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise RuntimeError(
        f'checkpoint asks for attribute {name!r} of {obj!r}; when loading checkpoints only the '
        'statistics methods of mmengine HistoryBuffer are allowed (see mmorcnn.utils.checkpoint)')


def checkpoint_safe_globals() -> List[object]:
    """Every non-tensor type found in checkpoints that mmengine's Runner saves."""
    from mmengine.config import ConfigDict
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, ConfigDict, (_history_buffer_getattr, 'builtins.getattr')
            ] + _numpy_globals()


def setup_checkpoint_loading() -> None:
    """Allow-list mmengine's checkpoint contents for ``torch.load(weights_only=True)``.

    Idempotent; does nothing on torch versions without ``add_safe_globals``.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return
    add_safe_globals(checkpoint_safe_globals())


#: Checkpoint names that mmengine's CheckpointHook writes (``iter_{n}.pth``, ``epoch_{n}.pth``).
_STEP_CHECKPOINT = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def checkpoint_problem(filename: str) -> Optional[str]:
    """Why ``filename`` cannot be read as a checkpoint, or None when it can.

    A torch checkpoint is a zip archive: the archive's directory and every member's CRC are
    checked, which finds a file cut short by a kill or a full disk without unpickling it. A file
    in torch's legacy (non-zip) format is loaded with the safe loader instead.
    """
    if not osp.isfile(filename):
        return 'file not found'
    if zipfile.is_zipfile(filename):
        try:
            with zipfile.ZipFile(filename) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            return f'damaged zip archive ({e})'
        return None if bad is None else f'damaged zip archive (member {bad} fails its CRC)'
    try:
        torch.load(filename, map_location='cpu', weights_only=True)
    except Exception as e:  # any failure means: not readable as a checkpoint
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return f'not a readable checkpoint ({reason})'
    return None


def step_checkpoints(directory: str) -> List[str]:
    """The ``iter_{n}.pth`` / ``epoch_{n}.pth`` files of ``directory``, newest step first."""
    if not osp.isdir(directory):
        return []
    found = [(int(m.group(1)), name) for name in os.listdir(directory)
             for m in [_STEP_CHECKPOINT.match(name)] if m]
    return [osp.join(directory, name) for _, name in sorted(found, reverse=True)]
