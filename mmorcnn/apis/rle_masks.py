"""Deprecated: the mask prediction of large images in chunks kept as RLEs is the option
``max_mask_pixels`` of the R-CNN test config, honoured where masks are pasted
(:mod:`mmorcnn.models.mask_paste`), and set by :class:`~mmorcnn.apis.AmodalInferencer`.

The names of this module stay importable, each with a DeprecationWarning, for one release:
``chunk_size`` (now :func:`mmorcnn.models.mask_paste.chunk_size`), ``MAX_KINDS``,
``needs_chunks`` and ``rle_mask_prediction``, a context manager that sets
``roi_head.test_cfg.max_mask_pixels`` while it is open.
"""
import warnings
from contextlib import contextmanager
from typing import Iterator, List

from mmorcnn.models import mask_paste
from mmorcnn.structures.mask_kinds import MASK_KINDS

_MAX_KINDS = len(MASK_KINDS)


def _needs_chunks(batch_img_metas: List[dict], max_per_img: int, max_mask_pixels: int) -> bool:
    """Whether pasting up to ``max_per_img`` detections of some image of the batch at once would
    exceed ``max_mask_pixels``."""
    return any(max_per_img * _MAX_KINDS * int(m['ori_shape'][0]) * int(m['ori_shape'][1]) >
               max_mask_pixels for m in batch_img_metas)


@contextmanager
def _rle_mask_prediction(roi_head, max_mask_pixels: int) -> Iterator[None]:
    """Within the context, ``roi_head.test_cfg.max_mask_pixels`` is ``max_mask_pixels``: the
    masks of an image whose detections do not fit are pasted in chunks and kept as RLEs by the
    mask heads that paste through :mod:`mmorcnn.models.mask_paste`."""
    test_cfg = roi_head.test_cfg
    had_key, old = 'max_mask_pixels' in test_cfg, test_cfg.get('max_mask_pixels')
    test_cfg.max_mask_pixels = max_mask_pixels
    try:
        yield
    finally:
        if had_key:
            test_cfg.max_mask_pixels = old
        else:
            del test_cfg['max_mask_pixels']


_DEPRECATED = {
    'MAX_KINDS': (_MAX_KINDS, 'test_cfg.rcnn.max_mask_pixels'),
    'chunk_size': (mask_paste.chunk_size, 'mmorcnn.models.mask_paste.chunk_size'),
    'needs_chunks': (_needs_chunks, 'test_cfg.rcnn.max_mask_pixels'),
    'rle_mask_prediction': (_rle_mask_prediction, 'test_cfg.rcnn.max_mask_pixels'),
}


def __getattr__(name: str):
    if name in _DEPRECATED:
        value, instead = _DEPRECATED[name]
        warnings.warn(f'mmorcnn.apis.rle_masks.{name} is deprecated; use {instead} '
                      '(mmorcnn.models.mask_paste)', DeprecationWarning, stacklevel=2)
        return value
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
