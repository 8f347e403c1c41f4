from .checkpoint import checkpoint_safe_globals, setup_checkpoint_loading
from .logging import MMEngineDeprecationFilter, filter_mmengine_deprecations

__all__ = [
    'checkpoint_safe_globals', 'setup_checkpoint_loading', 'MMEngineDeprecationFilter',
    'filter_mmengine_deprecations'
]
