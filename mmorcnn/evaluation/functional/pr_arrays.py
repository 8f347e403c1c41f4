"""The precision and recall arrays of an amodal evaluation in a file, for whoever draws the
precision-recall curves (:class:`mmorcnn.engine.AmodalPRCurvesHook`).

The file is a NumPy ``.npz``: ``precision/<name>`` ``(T, 101, K)`` and ``recall/<name>``
``(T, K)`` per evaluation (``A``, ``occ_V``, ...), the metrics as JSON, the category ids and
names; it loads without pickles.
"""
import json
import os
import os.path as osp

import numpy as np

from .amodal_eval import AmodalEvalResult


def save_pr_arrays(evaluation: AmodalEvalResult, out_file: str) -> str:
    """Write the metrics, precision and recall arrays of ``evaluation`` to ``out_file`` (its
    folder is created); return ``out_file``."""
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    arrays = {f'precision/{name}': value for name, value in evaluation.precision.items()}
    arrays.update({f'recall/{name}': value for name, value in evaluation.recall.items()})
    with open(out_file, 'wb') as f:
        np.savez(f, metrics=np.array(json.dumps(evaluation.metrics)),
                 cat_ids=np.asarray(evaluation.cat_ids, dtype=np.int64),
                 cat_names=np.asarray(evaluation.cat_names, dtype=str), **arrays)
    return out_file


def load_pr_arrays(path: str) -> AmodalEvalResult:
    """What :func:`save_pr_arrays` wrote, as an :class:`AmodalEvalResult` (without the
    per-class table)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return AmodalEvalResult(
        metrics=json.loads(str(arrays.pop('metrics'))),
        cat_ids=arrays.pop('cat_ids').tolist(),
        cat_names=arrays.pop('cat_names').tolist(),
        precision={k.split('/', 1)[1]: v for k, v in arrays.items() if k.startswith('precision/')},
        recall={k.split('/', 1)[1]: v for k, v in arrays.items() if k.startswith('recall/')})
