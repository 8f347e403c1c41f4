from .checkpoint import checkpoint_safe_globals, setup_checkpoint_loading

__all__ = ['checkpoint_safe_globals', 'setup_checkpoint_loading']
