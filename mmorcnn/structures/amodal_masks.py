"""Amodal instance masks that carry their visible and invisible parts along (DESIGN.md section 4).

mmdet's data transforms change ``results['gt_masks']`` only through the geometric methods of
:class:`~mmdet.structures.mask.BitmapMasks` (``rescale``, ``flip``, ``pad``, ``crop``, indexing
when instances are filtered, ...). :class:`AmodalBitmapMasks` is the amodal ``BitmapMasks`` and
applies each of those methods to its visible and invisible masks too, with the same arguments.
So every mmdet transform that works on ``gt_masks`` (``Resize``, ``RandomResize``,
``RandomFlip``, ``Pad``, ``RandomCrop``, ``FilterAnnotations``, ``Expand``, ``Rotate``, ...) moves
the three masks of an instance together, and a config needs no amodal variant of any of them.
Transforms that build new masks from scratch (``CopyPaste``, ``Mosaic`` with its own arrays)
return a plain ``BitmapMasks``; ``PackAmodalDetInputs`` then refuses the sample instead of
training on misaligned masks.
"""
from typing import Callable, Sequence

from mmdet.structures.mask import BitmapMasks


class AmodalBitmapMasks(BitmapMasks):
    """Amodal bitmap masks with the visible and invisible masks of the same instances.

    Everywhere mmdet reads masks (``areas``, ``get_bboxes``, ``to_tensor``, ...) it gets the
    amodal masks; the parts are in :attr:`visible` and :attr:`invisible`.

    Args:
        masks (np.ndarray): ``(N, H, W)`` amodal masks.
        height (int): Mask height.
        width (int): Mask width.
        visible_masks (np.ndarray): ``(N, H, W)`` visible masks of the same instances.
        invisible_masks (np.ndarray): ``(N, H, W)`` invisible (occluded) masks.
    """

    def __init__(self, masks, height: int, width: int, visible_masks,
                 invisible_masks) -> None:
        super().__init__(masks, height, width)
        self.visible = BitmapMasks(visible_masks, height, width)
        self.invisible = BitmapMasks(invisible_masks, height, width)
        if not len(self.visible) == len(self.invisible) == len(self):
            raise ValueError(f'{len(self)} amodal masks but {len(self.visible)} visible and '
                             f'{len(self.invisible)} invisible masks')

    @classmethod
    def from_parts(cls, amodal: BitmapMasks, visible: BitmapMasks,
                   invisible: BitmapMasks) -> 'AmodalBitmapMasks':
        """Combine three ``BitmapMasks`` of the same instances and size."""
        return cls(amodal.masks, amodal.height, amodal.width, visible.masks, invisible.masks)

    @property
    def amodal(self) -> BitmapMasks:
        """A copy of the amodal masks as a plain ``BitmapMasks``."""
        return BitmapMasks(self.masks, self.height, self.width)

    def _apply(self, method: Callable, *args, **kwargs) -> 'AmodalBitmapMasks':
        """Apply a ``BitmapMasks`` method with the same arguments to all three masks."""
        return self.from_parts(*(method(part, *args, **kwargs)
                                 for part in (self, self.visible, self.invisible)))

    def __getitem__(self, index) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.__getitem__, index)

    def rescale(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.rescale, *args, **kwargs)

    def resize(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.resize, *args, **kwargs)

    def flip(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.flip, *args, **kwargs)

    def pad(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.pad, *args, **kwargs)

    def crop(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.crop, *args, **kwargs)

    def crop_and_resize(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.crop_and_resize, *args, **kwargs)

    def expand(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.expand, *args, **kwargs)

    def translate(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.translate, *args, **kwargs)

    def shear(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.shear, *args, **kwargs)

    def rotate(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.rotate, *args, **kwargs)

    @classmethod
    def cat(cls, masks: Sequence['AmodalBitmapMasks']) -> 'AmodalBitmapMasks':
        """Concatenate amodal masks and their parts instance-wise."""
        if not all(isinstance(m, cls) for m in masks):
            raise TypeError('AmodalBitmapMasks.cat needs AmodalBitmapMasks only')
        return cls.from_parts(BitmapMasks.cat(masks),
                              BitmapMasks.cat([m.visible for m in masks]),
                              BitmapMasks.cat([m.invisible for m in masks]))
