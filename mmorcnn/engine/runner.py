"""AmodalRunner: mmengine's Runner with the checks that keep a run from losing work or reporting
numbers of untrained weights.

mmorcnn's ``configs/_base_/default_runtime.py`` sets ``runner_type = 'AmodalRunner'``, so
``mim train`` / ``mim test`` (``tools/train.py``, ``tools/test.py``) build it. What it adds:

* before the first iteration: the work dir and the checkpoint directory are writable
  (:class:`WorkDirError`), every class-specific head has as many classes as the dataset
  (:func:`~mmorcnn.engine.data_fit.check_class_counts`);
* testing, validating and resuming with a checkpoint that lacks weights of the model (or has
  them in another shape) stop with a
  :class:`~mmorcnn.engine.checkpoint_fit.CheckpointMismatchError`, unless the config sets
  ``allow_partial_checkpoint = True``; ``load_from`` in training (fine-tuning, partial by design)
  logs by module what is initialised from the checkpoint and what is not;
* checkpoints are written to a temporary file that is renamed to its name when complete, so a
  kill during the write never leaves a cut-off checkpoint under the name that
  ``last_checkpoint`` points to;
* ``resume`` without a file (``--resume``) skips an unreadable latest checkpoint with a warning
  and resumes from the newest readable one of the same directory;
* checkpoints carry the random generators' states, which a resume sets back
  (:class:`~mmorcnn.engine.random_state_hook.RandomStateHook`, registered by the runner).
* the config's visualizer is built under a name no other visualizer of the process holds, so
  that a second run in one process stores its logs and overlays in its own work dir.
"""
import logging
import os
import os.path as osp
from typing import Optional

from mmengine.dist import master_only
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmdet.registry import RUNNERS
from mmorcnn.structures import AmodalError
from mmorcnn.utils.checkpoint import checkpoint_problem, step_checkpoints
from mmorcnn.visualization import unused_visualizer_name
from .checkpoint_fit import DEFAULT_REVISE_KEYS, check_checkpoint_fits, log_partial_init
from .data_fit import check_class_counts
from .random_state_hook import RandomStateHook

#: Suffix of the file a checkpoint is written to before it is renamed to its name.
PARTIAL_SUFFIX = '.partial'


class WorkDirError(OSError):
    """A directory the run writes to (work dir, checkpoint directory) is not writable."""


class CheckpointReadError(RuntimeError, AmodalError):
    """No readable checkpoint to resume from or to load (a bad input, so an
    :class:`~mmorcnn.structures.AmodalError` too)."""


def check_writable(directory: str, what: str) -> None:
    """Create ``directory`` if needed and write (then remove) a probe file in it; raise
    :class:`WorkDirError` naming ``what`` and the directory when that fails."""
    probe = osp.join(directory, f'.mmorcnn-write-test-{os.getpid()}')
    try:
        os.makedirs(directory, exist_ok=True)
        with open(probe, 'w') as f:
            f.write('ok')
        os.remove(probe)
    except OSError as e:
        raise WorkDirError(
            f'{what} {directory} is not writable ({e.strerror or e}): nothing could be saved; '
            'choose another one (--work-dir DIR, or default_hooks.checkpoint.out_dir)') from e


@RUNNERS.register_module()
class AmodalRunner(Runner):
    """mmengine's Runner with the checks listed in the module docstring.

    Config keys it reads besides Runner's: ``allow_partial_checkpoint`` (bool, default False):
    test, validate and resume with a checkpoint that does not fit the model, warning instead of
    stopping.
    """

    #: What a checkpoint is loaded for: 'testing' until train() or resume() says otherwise.
    _checkpoint_use = 'testing'

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not any(isinstance(hook, RandomStateHook) for hook in self.hooks):
            self.register_hook(RandomStateHook())

    def build_visualizer(self, visualizer=None):
        """Runner.build_visualizer; a visualizer from a config gets a name no visualizer of the
        process holds (:func:`~mmorcnn.visualization.unused_visualizer_name`), so that a second
        run in the same process writes to its own work dir, not to the first run's."""
        if isinstance(visualizer, dict):
            visualizer = {**visualizer, 'name': unused_visualizer_name(
                visualizer.get('name', self._experiment_name))}
        return super().build_visualizer(visualizer)

    @property
    def allow_partial_checkpoint(self) -> bool:
        """bool: ``cfg.allow_partial_checkpoint``: go on with a checkpoint that does not fit."""
        return bool(self.cfg.get('allow_partial_checkpoint', False))

    def _unwrapped_model(self):
        return self.model.module if is_model_wrapper(self.model) else self.model

    def _checkpoint_dirs(self):
        """(what, directory) of every directory the run saves into."""
        dirs = [('work dir', self.work_dir)]
        for hook in self.hooks:
            if isinstance(hook, CheckpointHook) and hook.out_dir is not None:
                out_dir = hook.out_dir  # CheckpointHook.before_train adds the work dir's name
                if out_dir != self.work_dir:
                    out_dir = osp.join(out_dir, osp.basename(osp.normpath(self.work_dir)))
                if isinstance(get_file_backend(out_dir), LocalBackend):
                    dirs.append(('checkpoint directory (CheckpointHook out_dir)', out_dir))
        return dirs

    def _check_classes(self, loop: str) -> None:
        """The class counts of the model's heads against the dataset of the ``loop`` (``'train'``,
        ``'val'`` or ``'test'``), when the config has that loop."""
        if getattr(self, f'_{loop}_loop') is not None:
            check_class_counts(self._unwrapped_model(),
                               getattr(self, f'{loop}_loop').dataloader.dataset,
                               f'{loop}_dataloader')

    def train(self):
        """Runner.train after the work dirs and the class counts are checked."""
        for what, directory in self._checkpoint_dirs():
            check_writable(directory, what)
        self._check_classes('train')
        self._check_classes('val')
        self._checkpoint_use = 'initialisation'
        return super().train()

    def val(self) -> dict:
        self._check_classes('val')
        self._checkpoint_use = 'validation'
        return super().val()

    def test(self) -> dict:
        self._check_classes('test')
        self._checkpoint_use = 'testing'
        return super().test()

    def load_checkpoint(self, filename: str, map_location='cpu', strict: bool = False,
                        revise_keys: list = DEFAULT_REVISE_KEYS):
        """Runner.load_checkpoint, then the fit of the checkpoint to the model: an error for
        testing, validation and resuming (unless ``allow_partial_checkpoint``), a log line by
        module for a training's ``load_from``."""
        checkpoint = super().load_checkpoint(filename, map_location, strict, revise_keys)
        model = self._unwrapped_model()
        if self._checkpoint_use == 'initialisation':
            log_partial_init(model, checkpoint, filename, revise_keys, logger=self.logger)
        else:
            check_checkpoint_fits(model, checkpoint, filename, self._checkpoint_use,
                                  self.allow_partial_checkpoint, revise_keys, logger=self.logger)
        return checkpoint

    def resume(self, filename: str, resume_optimizer: bool = True,
               resume_param_scheduler: bool = True, map_location='default') -> None:
        """Runner.resume; with ``--resume`` and no file given (``load_from`` None), an
        unreadable ``filename`` is skipped for the newest readable checkpoint of its
        directory."""
        if self._load_from is None:
            filename = self._newest_readable(filename)
        else:
            problem = checkpoint_problem(filename)
            if problem is not None:
                raise CheckpointReadError(f'cannot resume from {filename}: {problem}')
        self._checkpoint_use = 'resuming'
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler, map_location)
        finally:
            self._checkpoint_use = 'initialisation'

    def _newest_readable(self, latest: str) -> str:
        """``latest`` if readable, else the newest readable checkpoint beside it (warning)."""
        directory = osp.dirname(latest) or self.work_dir
        for name in sorted(os.listdir(directory)) if osp.isdir(directory) else []:
            if name.endswith('.pth' + PARTIAL_SUFFIX):  # a write that was cut off
                os.remove(osp.join(directory, name))
                print_log(f'removed {osp.join(directory, name)}, a checkpoint whose writing '
                          'was interrupted', logger=self.logger, level=logging.WARNING)
        problem = checkpoint_problem(latest)
        if problem is None:
            return latest
        for candidate in step_checkpoints(directory):
            if osp.abspath(candidate) == osp.abspath(latest):
                continue
            if checkpoint_problem(candidate) is None:
                print_log(f'the latest checkpoint {latest} is unreadable ({problem}); resuming '
                          f'from {candidate}, the newest readable checkpoint in {directory}',
                          logger=self.logger, level=logging.WARNING)
                return candidate
        raise CheckpointReadError(
            f'cannot resume: the latest checkpoint {latest} is unreadable ({problem}) and '
            f'{directory} holds no other readable checkpoint; start without --resume')

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True, save_param_scheduler: bool = True,
                        meta: Optional[dict] = None, by_epoch: bool = True,
                        backend_args: Optional[dict] = None):
        """Runner.save_checkpoint into ``filename + PARTIAL_SUFFIX``, renamed to ``filename``
        once complete (local directories; other backends are written as by mmengine)."""
        args = (file_client_args, save_optimizer, save_param_scheduler, meta, by_epoch,
                backend_args)
        if file_client_args is not None or not isinstance(
                get_file_backend(out_dir, backend_args=backend_args), LocalBackend):
            return super().save_checkpoint(out_dir, filename, *args)
        partial = filename + PARTIAL_SUFFIX
        super().save_checkpoint(out_dir, partial, *args)
        os.replace(osp.join(out_dir, partial), osp.join(out_dir, filename))
