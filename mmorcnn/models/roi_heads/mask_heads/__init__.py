from .aisformer_mask_head import AISFORMER_KINDS, AISFormerMaskHead
from .amodal_mask_head import AmodalMaskHead, OcclusionMaskHead
from .bcnet_mask_head import BCNET_KINDS, BCNetMaskHead
from .mask_losses import MaskLossesMixin, mask_bce, mask_boundaries, mask_loss_name

__all__ = [
    'AISFORMER_KINDS', 'AISFormerMaskHead', 'AmodalMaskHead', 'BCNET_KINDS', 'BCNetMaskHead',
    'MaskLossesMixin', 'OcclusionMaskHead', 'mask_bce', 'mask_boundaries', 'mask_loss_name'
]

#: Deprecated names of this package, now in :mod:`mmorcnn.models.mask_paste`; importable from
#: here with a DeprecationWarning for one release.
_MOVED_TO_MASK_PASTE = ('mask_paste_windows', 'paste_masks', 'paste_masks_of_heads',
                        'paste_windows')


def __getattr__(name: str):
    if name in _MOVED_TO_MASK_PASTE:
        import warnings

        from mmorcnn.models import mask_paste
        warnings.warn(f'mmorcnn.models.roi_heads.mask_heads.{name} is deprecated; import it from '
                      'mmorcnn.models.mask_paste', DeprecationWarning, stacklevel=2)
        return getattr(mask_paste, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
