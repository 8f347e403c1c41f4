"""RandomStateHook: checkpoints carry torch's random generator states, so that a resumed
training samples what the uninterrupted one would have sampled.

mmengine's ``resume`` re-seeds every generator from the config's seed and replays the data
loader up to the resumed iteration. The replay brings the data pipeline's generators (numpy and
python ``random``, in the workers or, with ``num_workers=0``, in the main process; the sampler's
own generator) to where the uninterrupted run had them. The model's draws are not replayed:
torch's generator (RoI sampling of the R-CNN, RPN) would start again from the seed. This hook
writes the states of torch's CPU generator and of every CUDA device's generator into
``checkpoint['meta']['random_states']`` when a checkpoint is saved and sets them back right
before the first iteration after a resume. A checkpoint loaded as ``load_from``
(fine-tuning) is not a resume: its states are not used.
"""
from typing import Optional

import torch
from mmengine.hooks import Hook

from mmdet.registry import HOOKS


def random_states() -> dict:
    """The states of torch's CPU and CUDA generators."""
    states = dict(torch=torch.get_rng_state())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_random_states(states: dict) -> None:
    """Set the generators to ``states`` (of :func:`random_states`)."""
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the generators' states with each checkpoint; restore them when resuming.

    :class:`~mmorcnn.engine.AmodalRunner` registers it (priority ``'VERY_LOW'``, so that the
    states are taken after every other hook of the iteration has drawn its numbers).
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None
        self._pending_iter: Optional[int] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['random_states'] = random_states()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        self._pending = meta.get('random_states')
        self._pending_iter = meta.get('iter')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """At the first iteration after a resume (the runner at the checkpoint's iteration),
        set the generators to the checkpoint's states."""
        if self._pending is not None and runner.iter == self._pending_iter:
            set_random_states(self._pending)
        self._pending = None
