from .checkpoint import checkpoint_safe_globals, load_numpy_pickle, setup_checkpoint_loading
from .logging import MMEngineDeprecationFilter, filter_mmengine_deprecations
from .project_files import project_path
from .text_table import format_table

__all__ = [
    'checkpoint_safe_globals', 'load_numpy_pickle', 'setup_checkpoint_loading',
    'MMEngineDeprecationFilter', 'filter_mmengine_deprecations', 'format_table', 'project_path'
]
