"""Converters from the released amodal datasets to mmorcnn's canonical format
(docs/annotation_format.md).

One module per source format; the CLIs in ``tools/dataset_converters/`` are thin wrappers.
"""
from .cocoa import COCOA_CATEGORY, convert_cocoa
from .cocoa_cls import DEFAULT_IOU_THR, convert_cocoa_cls
from .common import SkipCounter, conversion_summary, write_and_summarize, write_json
from .d2sa import convert_d2sa
from .kins import convert_kins

__all__ = [
    'COCOA_CATEGORY', 'DEFAULT_IOU_THR', 'SkipCounter', 'conversion_summary', 'convert_cocoa',
    'convert_cocoa_cls', 'convert_d2sa', 'convert_kins', 'write_and_summarize', 'write_json'
]
