"""Keep mmengine's own deprecation notices out of training and test logs.

mmengine 0.10.7 logs two warnings in every run that neither a config nor a user can avoid:
``CheckpointHook.before_train`` (and ``LoggerHook`` with an ``out_dir``) always builds a
``FileClient`` "to keep backward compatibility", which logs

* ``"FileClient" will be deprecated in future. Please use io functions ...`` and
* ``"HardDiskBackend" is the alias of "LocalBackend" and the former will be deprecated ...``,

although the hooks then read and write through the new ``get_file_backend`` API. mmorcnn's train
and test commands (:func:`mmorcnn.engine.launch.build_runner`: ``tools/train.py``,
``tools/test.py``, ``mim train`` / ``mim test``) attach :class:`MMEngineDeprecationFilter` to the
runner's logger; every other message passes.
"""
import logging

#: Beginnings of the mmengine messages that are dropped (mmengine/fileio/file_client.py).
MMENGINE_DEPRECATIONS = (
    '"FileClient" will be deprecated in future',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)


class MMEngineDeprecationFilter(logging.Filter):
    """Drops the log records of :data:`MMENGINE_DEPRECATIONS`; passes every other record."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith(MMENGINE_DEPRECATIONS)


def filter_mmengine_deprecations(logger: logging.Logger) -> logging.Logger:
    """Attach :class:`MMEngineDeprecationFilter` to ``logger`` once (e.g. ``runner.logger``).

    Returns:
        logging.Logger: ``logger``.
    """
    if not any(isinstance(f, MMEngineDeprecationFilter) for f in logger.filters):
        logger.addFilter(MMEngineDeprecationFilter())
    return logger
