from .checkpoint import checkpoint_safe_globals, setup_checkpoint_loading
from .logging import MMEngineDeprecationFilter, filter_mmengine_deprecations
from .project_files import project_path

__all__ = [
    'checkpoint_safe_globals', 'setup_checkpoint_loading', 'MMEngineDeprecationFilter',
    'filter_mmengine_deprecations', 'project_path'
]
