"""Running mmorcnn with mmengine: the train and test commands (``python -m mmorcnn.engine.train``,
``mmorcnn.engine.test``) and their launcher, the runner, the checks it makes before work starts
and the hooks (registered into mmdet's registries on import)."""
from .checkpoint_fit import (CheckpointFit, CheckpointMismatchError, check_checkpoint_fits,
                             checkpoint_fit, log_partial_init)
from .data_fit import ClassCountError, check_class_counts, class_specific_heads
from .launch import LauncherError, setup_launcher
from .pr_curves_hook import AmodalPRCurvesHook
from .runner import AmodalRunner, CheckpointReadError, WorkDirError, check_writable

__all__ = [
    'AmodalPRCurvesHook', 'AmodalRunner', 'CheckpointFit', 'CheckpointMismatchError',
    'CheckpointReadError', 'ClassCountError', 'LauncherError', 'WorkDirError',
    'check_checkpoint_fits', 'check_class_counts', 'check_writable', 'checkpoint_fit',
    'class_specific_heads', 'log_partial_init', 'setup_launcher'
]
