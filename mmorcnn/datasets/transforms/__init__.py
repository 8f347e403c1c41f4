from .formatting import PackAmodalDetInputs
from .loading import LoadAmodalAnnotations, LoadNamedImageFromFile

__all__ = ['LoadAmodalAnnotations', 'LoadNamedImageFromFile', 'PackAmodalDetInputs']
