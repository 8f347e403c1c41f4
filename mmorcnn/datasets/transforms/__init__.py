from .formatting import PackAmodalDetInputs
from .loading import LoadAmodalAnnotations

__all__ = ['LoadAmodalAnnotations', 'PackAmodalDetInputs']
