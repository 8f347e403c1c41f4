"""Whether a model's configuration fits its dataset: the class count of every class-specific head.

A head configured for fewer classes than the dataset has (``mask_head.num_classes=3`` on the
6-class synthetic dataset) otherwise fails at the first iteration deep in mmdet's loss
(``IndexError: index 5 is out of bounds``), and one configured for more silently trains outputs
no ground truth ever reaches. :func:`check_class_counts` compares them before the first iteration
and names every head that differs.
"""
from typing import List, Tuple

import torch
from mmdet.models.dense_heads import RPNHead

from mmorcnn.structures.errors import AmodalError


class ClassCountError(AmodalError):
    """A class-specific head of the model has another class count than the dataset."""


def _dataset_files(dataset) -> str:
    """The annotation file(s) of a dataset or dataset wrapper, for messages."""
    if hasattr(dataset, 'ann_file'):
        return str(dataset.ann_file)
    inner = getattr(dataset, 'datasets', None) or [getattr(dataset, 'dataset', None)]
    return ', '.join(_dataset_files(d) for d in inner if d is not None) or type(dataset).__name__


def class_specific_heads(model: torch.nn.Module) -> List[Tuple[str, int]]:
    """``(module name, num_classes)`` of the model's heads whose outputs are per class: every
    module with an integer ``num_classes`` except the RPN (one objectness class by design) and
    class-agnostic heads (``class_agnostic=True``), whose single output channel serves any
    class."""
    heads = []
    for name, module in model.named_modules():
        num_classes = getattr(module, 'num_classes', None)
        if not name or not isinstance(num_classes, int) or isinstance(module, RPNHead):
            continue
        if getattr(module, 'class_agnostic', False):
            continue
        heads.append((name, num_classes))
    return heads


def check_class_counts(model: torch.nn.Module, dataset, loader: str) -> None:
    """Raise :class:`ClassCountError` when a class-specific head of ``model`` has another class
    count than ``dataset.metainfo['classes']``.

    Args:
        model (torch.nn.Module): The (unwrapped) model.
        dataset: The dataset (or dataset wrapper) of ``loader``.
        loader (str): The config key of the data loader, e.g. ``'train_dataloader'``.
    """
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    if not classes:
        return
    wrong = [(name, n) for name, n in class_specific_heads(model) if n != len(classes)]
    if not wrong:
        return
    heads = ', '.join(f'model.{name}.num_classes={n}' for name, n in wrong)
    shown = ', '.join(map(repr, classes[:10])) + (', ...' if len(classes) > 10 else '')
    raise ClassCountError(
        f'{heads}, but the dataset of {loader} ({_dataset_files(dataset)}) has '
        f'{len(classes)} classes ({shown}): set num_classes={len(classes)} in every '
        'class-specific head of the config (bbox_head, mask_head; the visible and occlusion '
        'heads follow mask_head unless they set their own), or choose the classes with '
        f'{loader}.dataset.metainfo=dict(classes=...)')
