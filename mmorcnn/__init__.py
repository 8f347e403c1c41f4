"""mmorcnn: amodal instance segmentation (ORCNN) as an MMDetection 3.x plugin.

``import mmorcnn`` registers every module into mmdet's registries (MODELS, DATASETS, TRANSFORMS,
METRICS, VISUALIZERS), so configs inheriting ``mmdet::`` bases can use them by name.
"""
from .version import __version__
from .utils import setup_checkpoint_loading  # noqa: E402  (torch>=2.6 weights_only, see utils)
from . import structures  # noqa: F401,E402
from . import datasets  # noqa: F401,E402
from . import models  # noqa: F401,E402
from . import evaluation  # noqa: F401,E402
from . import visualization  # noqa: F401,E402
from . import apis  # noqa: F401,E402

setup_checkpoint_loading()

__all__ = ['__version__']
