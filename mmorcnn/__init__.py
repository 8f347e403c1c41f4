"""mmorcnn: amodal instance segmentation (ORCNN) as an MMDetection 3.x plugin.

``import mmorcnn`` registers every module into mmdet's registries (MODELS, DATASETS, TRANSFORMS,
METRICS, VISUALIZERS), so configs inheriting ``mmdet::`` bases can use them by name.
"""
import warnings

# mmengine 0.10.7 and mmcv import ``pkg_resources``, which setuptools < 81 (the range they need,
# see docs/installation.md) marks deprecated with a UserWarning on import; nothing a user can act
# on, so it is hidden before those packages are first imported.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

from .version import __version__  # noqa: E402
from .utils import setup_checkpoint_loading  # noqa: E402  (torch>=2.6 weights_only, see utils)
from . import structures  # noqa: F401,E402
from . import datasets  # noqa: F401,E402
from . import models  # noqa: F401,E402
from . import evaluation  # noqa: F401,E402
from . import visualization  # noqa: F401,E402
from . import apis  # noqa: F401,E402
from . import engine  # noqa: F401,E402

setup_checkpoint_loading()

__all__ = ['__version__']
