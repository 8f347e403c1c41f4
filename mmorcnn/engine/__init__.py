"""Running mmorcnn with mmengine: hooks (registered into mmdet's HOOKS on import)."""
from .pr_curves_hook import AmodalPRCurvesHook

__all__ = ['AmodalPRCurvesHook']
