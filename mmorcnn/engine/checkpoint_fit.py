"""Whether a checkpoint fits a model: every weight the model's modules use is in the checkpoint,
with the shape the model expects.

mmengine loads checkpoints with ``strict=False``: a weight the checkpoint lacks keeps its random
initialisation, one whose shape differs is skipped, and the only trace is a warning in the log.
That is what fine-tuning needs (the paper initialises ORCNN from a Mask R-CNN and re-initialises
the class-specific layers), but testing or inference with such a model reports numbers of heads
that were never trained (an AmodalMRCNN checkpoint tested with an ORCNN config "evaluates" a
random visible mask head). :func:`checkpoint_fit` compares the two, grouped by module, and
:func:`check_checkpoint_fits` turns a mismatch into a :class:`CheckpointMismatchError` that lists
the modules and says how to proceed.

Rules: weights the model has and the checkpoint lacks, and weights whose shapes differ, are
mismatches. Weights in the checkpoint that the model does not use are a mismatch when they belong
to a module the model has (a different architecture of that module); whole modules the model
lacks (the visible mask head of an ORCNN checkpoint tested as AmodalMRCNN) are logged only, since
every weight the model uses is then loaded.
"""
import logging
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log

from mmorcnn.structures import AmodalError

#: mmengine's default ``revise_keys`` of ``load_checkpoint``: weights saved from a wrapped model.
DEFAULT_REVISE_KEYS = [(r'^module\.', '')]

#: The ways to go on, named in every :class:`CheckpointMismatchError`.
HOW_TO_PROCEED = (
    'train this config (mim train mmorcnn CONFIG) and use its checkpoint; for a Mask R-CNN '
    'checkpoint, convert it first with tools/model_converters/mask_rcnn_to_orcnn.py; or, to run '
    'on purpose with the missing weights at their random initialisation, pass '
    '--cfg-options allow_partial_checkpoint=True (mim test / tools/test.py), '
    'allow_partial_checkpoint=True (AmodalInferencer) or --allow-partial-checkpoint '
    '(tools/demo/image_demo.py)')


class CheckpointMismatchError(RuntimeError, AmodalError):
    """A checkpoint lacks weights of the model, or has them in another shape (a bad input, so an
    :class:`~mmorcnn.structures.AmodalError` too).

    Args:
        checkpoint (str): The checkpoint file.
        fit (CheckpointFit): What does not fit.
        use (str): What the checkpoint was loaded for, e.g. ``'testing'``.
    """

    def __init__(self, checkpoint: str, fit: 'CheckpointFit', use: str) -> None:
        self.checkpoint = checkpoint
        self.fit = fit
        self.use = use
        super().__init__(f'checkpoint {checkpoint} does not fit the model for {use}:\n'
                         f'{fit.describe()}\nTo proceed: {HOW_TO_PROCEED}.')

    def __reduce__(self):
        return type(self), (self.checkpoint, self.fit, self.use)


def module_of(key: str) -> str:
    """The module of the weight ``key``, at most two levels deep (``roi_head.visible_mask_head``,
    ``backbone.layer1``): what a user recognises in a config."""
    return '.'.join(key.split('.')[:-1][:2]) or key


def _group(keys: Sequence[str]) -> Dict[str, int]:
    """``{module: number of weights}`` of ``keys``, in first-seen order."""
    groups: Dict[str, int] = {}
    for key in keys:
        name = module_of(key)
        groups[name] = groups.get(name, 0) + 1
    return groups


def _class_count_hint(key: str, ckpt_shape: tuple, model_shape: tuple) -> str:
    """How many classes the two shapes of a class-specific layer stand for, if it is one."""
    if key.endswith('fc_cls.weight'):  # one row per class and one for the background
        return f' (checkpoint {ckpt_shape[0] - 1} classes, model {model_shape[0] - 1})'
    if key.endswith('conv_logits.weight'):  # one channel per class
        return f' (checkpoint {ckpt_shape[0]} classes, model {model_shape[0]})'
    return ''


@dataclass
class CheckpointFit:
    """What of a checkpoint does not fit a model.

    Attributes:
        missing (dict): ``{module: count}`` of the model's weights that the checkpoint lacks.
        unexpected (dict): ``{module: count}`` of checkpoint weights the model does not have, in
            modules the model has.
        unused_modules (dict): ``{module: count}`` of checkpoint weights of modules the model
            does not have at all.
        shape_mismatch (list): ``(key, checkpoint shape, model shape)`` of each weight whose
            shape differs.
    """
    missing: Dict[str, int] = field(default_factory=dict)
    unexpected: Dict[str, int] = field(default_factory=dict)
    unused_modules: Dict[str, int] = field(default_factory=dict)
    shape_mismatch: List[Tuple[str, tuple, tuple]] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        """bool: Every weight the model uses is in the checkpoint, in its shape."""
        return not (self.missing or self.unexpected or self.shape_mismatch)

    def describe(self) -> str:
        """One line per kind of mismatch, naming the modules."""

        def modules(groups: Mapping[str, int]) -> str:
            return ', '.join(f'{name} ({count} weights)' for name, count in groups.items())

        lines = []
        if self.missing:
            lines.append('  missing from the checkpoint (the model would keep their random '
                         f'initialisation): {modules(self.missing)}')
        if self.shape_mismatch:
            lines.append('  shape differs: ' + ', '.join(
                f'{key}: checkpoint {tuple(c)}, model {tuple(m)}{_class_count_hint(key, c, m)}'
                for key, c, m in self.shape_mismatch))
        if self.unexpected:
            lines.append('  in the checkpoint but not in the model\'s modules: '
                         f'{modules(self.unexpected)}')
        if self.unused_modules:
            lines.append('  modules of the checkpoint the model does not have (not loaded): '
                         f'{modules(self.unused_modules)}')
        return '\n'.join(lines)


def checkpoint_fit(model: torch.nn.Module,
                   checkpoint: Mapping,
                   revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS) -> CheckpointFit:
    """Compare ``checkpoint`` (a dict with ``state_dict``, or a state dict) with ``model``.

    Args:
        model (torch.nn.Module): The model (unwrapped).
        checkpoint (Mapping): A loaded checkpoint.
        revise_keys (Sequence[tuple]): ``(pattern, replacement)`` applied to the checkpoint's
            keys first, as by mmengine's loader. Defaults to stripping ``module.``.

    Returns:
        CheckpointFit: The mismatches (none when :attr:`CheckpointFit.fits`).
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    ckpt = {}
    for key, value in state_dict.items():
        for pattern, replacement in revise_keys:
            key = re.sub(pattern, replacement, key)
        ckpt[key] = value
    own = model.state_dict()
    module_names = {name for name, _ in model.named_modules() if name}
    fit = CheckpointFit(missing=_group([k for k in own if k not in ckpt]))
    extra = [k for k in ckpt if k not in own]
    fit.unexpected = _group([k for k in extra if module_of(k) in module_names])
    fit.unused_modules = _group([k for k in extra if module_of(k) not in module_names])
    for key, value in own.items():
        other = ckpt.get(key)
        if hasattr(other, 'shape') and tuple(other.shape) != tuple(value.shape):
            fit.shape_mismatch.append((key, tuple(other.shape), tuple(value.shape)))
    return fit


def check_checkpoint_fits(model: torch.nn.Module,
                          checkpoint: Mapping,
                          filename: str,
                          use: str,
                          allow_partial: bool = False,
                          revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS,
                          logger='current') -> CheckpointFit:
    """Raise :class:`CheckpointMismatchError` unless ``checkpoint`` fits ``model``.

    With ``allow_partial`` the mismatch is logged as a warning instead. Modules of the
    checkpoint that the model does not have are logged in either case.

    Args:
        model (torch.nn.Module): The model (unwrapped).
        checkpoint (Mapping): The loaded checkpoint.
        filename (str): Its file, for the message.
        use (str): What it is loaded for (``'testing'``, ``'inference'``, ``'resuming'``).
        allow_partial (bool): Warn instead of raising. Defaults to False.
        revise_keys (Sequence[tuple]): As :func:`checkpoint_fit`.
        logger: Where the messages go. Defaults to 'current'.

    Returns:
        CheckpointFit: The comparison.
    """
    fit = checkpoint_fit(model, checkpoint, revise_keys)
    if not fit.fits:
        if not allow_partial:
            raise CheckpointMismatchError(filename, fit, use)
        print_log(f'checkpoint {filename} does not fit the model; {use} goes on as '
                  f'allow_partial_checkpoint=True asks:\n{fit.describe()}', logger=logger,
                  level=logging.WARNING)
    elif fit.unused_modules:
        print_log(f'checkpoint {filename}: every weight of the model is loaded; not used for '
                  f'{use}:\n{fit.describe()}', logger=logger, level=logging.WARNING)
    return fit


def log_partial_init(model: torch.nn.Module,
                     checkpoint: Mapping,
                     filename: str,
                     revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS,
                     logger='current') -> Optional[CheckpointFit]:
    """Log, by module, what an initialisation checkpoint (``load_from`` of a training) leaves at
    the model's own initialisation: legitimate when fine-tuning (the paper re-initialises the
    class-specific layers), worth one clear line in the log."""
    fit = checkpoint_fit(model, checkpoint, revise_keys)
    if fit.fits and not fit.unused_modules:
        print_log(f'load_from {filename}: every weight of the model initialised from it',
                  logger=logger, level=logging.INFO)
        return fit
    print_log(f'load_from {filename} initialises the model partially (modules listed as '
              f'missing or of another shape are trained from their own initialisation):\n'
              f'{fit.describe()}', logger=logger, level=logging.WARNING)
    return fit
