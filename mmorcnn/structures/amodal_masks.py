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

Speed, with results identical to mmdet's ``BitmapMasks`` methods applied to each of the three
mask stacks (tests/test_structures/test_amodal_masks.py compares the two on random data):

- **Two stacks where that is exact.** When the invisible masks are amodal AND NOT visible (what
  the canonical format derives, and what ``LoadAmodalAnnotations`` checks on the RLEs), only the
  amodal and the visible stack are carried; :attr:`AmodalBitmapMasks.invisible` computes amodal
  AND NOT visible when it is read. This is exact for the operations that only move pixels and fill
  with 0: indexing, nearest-neighbour ``rescale`` / ``resize``, ``flip``, ``pad`` with 0, ``crop``,
  ``expand``. Every other operation (``rotate``, ``shear``, ``translate``, ``crop_and_resize``,
  interpolating resizes, padding with another value) first turns the derived invisible masks into
  a third stack and transforms all three with mmdet's own method, exactly as before.
- **All masks of an image in one call.** ``rescale`` / ``resize`` (nearest), ``flip`` and ``pad``
  work on the whole ``(N, H, W)`` stack at once instead of one mask at a time, and no operation
  copies its result a second time (``BitmapMasks.__init__`` does, with ``np.stack``).

One thing the derived stack cannot follow: code that writes into ``.masks`` in place (mmdet's
``RandomErasing``) changes the amodal masks only, so the invisible masks read afterwards follow the
edited amodal masks, whereas a third stack would have stayed unedited. No config uses such a
transform; the visible masks were never edited by it either.
"""
from typing import Callable, Optional, Sequence, Tuple

import cv2
import mmcv.image.geometric as mmcv_geometric
import numpy as np
from mmcv import rescale_size
from mmdet.structures.mask import BitmapMasks


def wrap_bitmap_masks(masks: np.ndarray, height: int, width: int) -> BitmapMasks:
    """A ``BitmapMasks`` around an ``(N, height, width)`` array without copying it.

    ``BitmapMasks.__init__`` copies its input (``np.stack``); the arrays given here are fresh
    results of an operation, so the copy would only cost time.
    """
    wrapped = BitmapMasks.__new__(BitmapMasks)
    wrapped.masks, wrapped.height, wrapped.width = masks, height, width
    return wrapped


def masks_and_not(masks: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``masks AND NOT others`` of two binary mask stacks of one shape, in the dtype of ``masks``.

    The same as ``masks & (1 - others)`` for 0/1 masks; OpenCV computes it for uint8 stacks.
    """
    if masks.dtype == others.dtype == np.uint8 and masks.size:
        flat = np.ascontiguousarray(masks).reshape(-1, masks.shape[-1])
        out = cv2.bitwise_not(np.ascontiguousarray(others).reshape(flat.shape))
        return cv2.bitwise_and(flat, out, dst=out).reshape(masks.shape)
    if np.issubdtype(masks.dtype, np.integer) or masks.dtype == bool:
        return masks & ~others.astype(masks.dtype)
    return (masks.astype(bool) & ~others.astype(bool)).astype(masks.dtype)


def _fresh(masks: np.ndarray, source: np.ndarray) -> np.ndarray:
    """``masks``, copied if it shares memory with ``source`` (results never alias inputs)."""
    return masks.copy() if np.may_share_memory(masks, source) else masks


def _nearest_rows(src: int, dst: int) -> np.ndarray:
    """Source row of every output row of OpenCV's nearest-neighbour resize from src to dst rows.

    Taken from OpenCV itself (a one-column index image), so that resizing the rows of a stack
    with these indices is exactly what ``cv2.resize(..., INTER_NEAREST)`` does to each mask.
    """
    index = np.arange(src, dtype=np.float32)[:, None]
    rows = cv2.resize(index, (1, dst), interpolation=cv2.INTER_NEAREST)
    return rows.reshape(dst).astype(np.intp)


def resize_nearest(masks: np.ndarray, height: int, width: int) -> Optional[np.ndarray]:
    """``(N, H, W)`` uint8 masks resized to ``height x width`` as ``mmcv.imresize(mask, (width,
    height), interpolation='nearest')`` resizes each mask, but in two calls for the whole stack.

    The columns of all masks are resized in one OpenCV call on the ``(N * H, W)`` image (its rows
    stay as they are), then the rows are picked with OpenCV's own row indices. Returns ``None``
    where that does not apply (another dtype than uint8, an mmcv resize backend other than cv2);
    the caller then resizes mask by mask.
    """
    num, src_h, src_w = masks.shape
    if masks.dtype != np.uint8 or mmcv_geometric.imread_backend != 'cv2' or num == 0:
        return None
    if (src_h, src_w) == (height, width):
        return masks.copy()  # as cv2.resize, which copies when the size does not change
    columns = masks.reshape(num * src_h, src_w)
    if width != src_w:
        columns = cv2.resize(columns, (width, num * src_h), interpolation=cv2.INTER_NEAREST)
    columns = columns.reshape(num, src_h, width)
    if height == src_h:
        return _fresh(columns, masks)
    return np.take(columns, _nearest_rows(src_h, height), axis=1)


def flip_masks(masks: np.ndarray, direction: str) -> np.ndarray:
    """``mmcv.imflip`` of every mask of an ``(N, H, W)`` stack, in one operation."""
    if direction in ('horizontal', 'diagonal') and masks.dtype == np.uint8 and masks.size:
        num, height, width = masks.shape
        # a horizontal flip reverses every row: the same on the (N * H, W) image
        flipped = cv2.flip(np.ascontiguousarray(masks).reshape(num * height, width), 1)
        flipped = flipped.reshape(num, height, width)
        return np.ascontiguousarray(flipped[:, ::-1]) if direction == 'diagonal' else flipped
    axes = dict(horizontal=(2, ), vertical=(1, ), diagonal=(1, 2))[direction]
    return np.ascontiguousarray(np.flip(masks, axis=axes))


def pad_masks(masks: np.ndarray, shape: Tuple[int, int], pad_val) -> Optional[np.ndarray]:
    """``mmcv.impad(mask, shape=shape, pad_val=pad_val)`` of every mask of a stack, at once.

    Returns ``None`` where the batched form would not give the same result (a non-integer pad
    value or one outside the dtype, an output smaller than the masks); the caller then pads mask
    by mask as mmdet does.
    """
    num, height, width = masks.shape
    if not (isinstance(pad_val, (int, np.integer)) and masks.dtype == np.uint8
            and 0 <= pad_val <= 255 and shape[0] >= height and shape[1] >= width):
        return None
    padded = np.full((num, *shape), pad_val, dtype=masks.dtype)
    padded[:, :height, :width] = masks
    return padded


class AmodalBitmapMasks(BitmapMasks):
    """Amodal bitmap masks with the visible and invisible masks of the same instances.

    Everywhere mmdet reads masks (``areas``, ``get_bboxes``, ``to_tensor``, ...) it gets the
    amodal masks; the parts are in :attr:`visible` and :attr:`invisible`.

    Args:
        masks (np.ndarray): ``(N, H, W)`` amodal masks.
        height (int): Mask height.
        width (int): Mask width.
        visible_masks (np.ndarray): ``(N, H, W)`` visible masks of the same instances.
        invisible_masks (np.ndarray, optional): ``(N, H, W)`` invisible (occluded) masks.
            ``None`` means amodal AND NOT visible, which is then computed when read and never
            carried through the transforms (see the module docstring). Defaults to None.
    """

    def __init__(self, masks, height: int, width: int, visible_masks,
                 invisible_masks=None) -> None:
        super().__init__(masks, height, width)
        self._visible = BitmapMasks(visible_masks, height, width).masks
        self._invisible = None if invisible_masks is None else BitmapMasks(
            invisible_masks, height, width).masks
        num_invisible = len(self._visible if self._invisible is None else self._invisible)
        if not len(self._visible) == num_invisible == len(self):
            raise ValueError(f'{len(self)} amodal masks but {len(self._visible)} visible and '
                             f'{num_invisible} invisible masks')

    @classmethod
    def from_arrays(cls, masks: np.ndarray, visible: np.ndarray,
                    invisible: Optional[np.ndarray] = None) -> 'AmodalBitmapMasks':
        """Wrap ``(N, H, W)`` arrays of one shape without copying them (unlike the constructor):
        for arrays that nothing else holds. ``invisible=None``: amodal AND NOT visible."""
        new = cls.__new__(cls)
        new.masks, new._visible, new._invisible = masks, visible, invisible
        new.height, new.width = masks.shape[1:]
        return new

    @classmethod
    def from_parts(cls, amodal: BitmapMasks, visible: BitmapMasks,
                   invisible: Optional[BitmapMasks] = None) -> 'AmodalBitmapMasks':
        """Combine three ``BitmapMasks`` of the same instances and size (``invisible=None``:
        amodal AND NOT visible)."""
        return cls(amodal.masks, amodal.height, amodal.width, visible.masks,
                   None if invisible is None else invisible.masks)

    @property
    def amodal(self) -> BitmapMasks:
        """A copy of the amodal masks as a plain ``BitmapMasks``."""
        return BitmapMasks(self.masks, self.height, self.width)

    @property
    def visible(self) -> BitmapMasks:
        """The visible masks, as a plain ``BitmapMasks``."""
        return wrap_bitmap_masks(self._visible, self.height, self.width)

    @property
    def invisible(self) -> BitmapMasks:
        """The invisible (occluded) masks, as a plain ``BitmapMasks``."""
        return wrap_bitmap_masks(self._invisible_array(), self.height, self.width)

    @property
    def invisible_is_derived(self) -> bool:
        """bool: Whether the invisible masks are amodal AND NOT visible, computed when read
        rather than carried as a third stack."""
        return self._invisible is None

    def _invisible_array(self) -> np.ndarray:
        if self._invisible is None:
            return masks_and_not(self.masks, self._visible)
        return self._invisible

    def _stacks(self, keep_derived: bool) -> tuple:
        """The amodal, visible and invisible arrays; ``None`` for a derived invisible stack that
        the caller's operation keeps exact (``keep_derived``)."""
        invisible = None if keep_derived and self._invisible is None else self._invisible_array()
        return self.masks, self._visible, invisible

    def _map(self, fn: Callable[[np.ndarray], np.ndarray],
             keep_derived: bool) -> 'AmodalBitmapMasks':
        """Apply an array operation to every stack (the derived one only if not exact)."""
        return self.from_arrays(*(None if stack is None else fn(stack)
                                 for stack in self._stacks(keep_derived)))

    def _apply(self, method: Callable, *args, keep_derived: bool = False,
               **kwargs) -> 'AmodalBitmapMasks':
        """Apply a ``BitmapMasks`` method with the same arguments to every stack."""
        height, width = self.height, self.width
        return self.from_arrays(*(None if stack is None else method(
            wrap_bitmap_masks(stack, height, width), *args, **kwargs).masks
                                 for stack in self._stacks(keep_derived)))

    def __getitem__(self, index) -> 'AmodalBitmapMasks':
        height, width = self.height, self.width

        def take(stack: np.ndarray) -> np.ndarray:
            picked = stack[index].reshape(-1, height, width)
            if len(picked) == 0:  # as BitmapMasks.__init__ makes empty masks
                return np.empty((0, height, width), dtype=np.uint8)
            return _fresh(picked, stack)

        return self._map(take, keep_derived=True)

    def _resize(self, height: int, width: int, method: Callable, *args,
                interpolation: str) -> 'AmodalBitmapMasks':
        """Nearest-neighbour resizes of the whole stacks; otherwise mmdet's ``method``."""
        nearest = interpolation == 'nearest'  # moves pixels only: AND NOT stays exact
        stacks = self._stacks(keep_derived=nearest)
        resized = [None if stack is None or not nearest else resize_nearest(stack, height, width)
                   for stack in stacks]
        if any(out is None for out, stack in zip(resized, stacks) if stack is not None):
            return self._apply(method, *args, interpolation=interpolation, keep_derived=nearest)
        return self.from_arrays(*resized)

    def rescale(self, scale, interpolation: str = 'nearest') -> 'AmodalBitmapMasks':
        width, height = rescale_size((self.width, self.height), scale)
        return self._resize(height, width, BitmapMasks.rescale, scale,
                            interpolation=interpolation)

    def resize(self, out_shape, interpolation: str = 'nearest') -> 'AmodalBitmapMasks':
        return self._resize(out_shape[0], out_shape[1], BitmapMasks.resize, out_shape,
                            interpolation=interpolation)

    def flip(self, flip_direction: str = 'horizontal') -> 'AmodalBitmapMasks':
        assert flip_direction in ('horizontal', 'vertical', 'diagonal')
        if len(self) == 0:
            return self._apply(BitmapMasks.flip, flip_direction, keep_derived=True)
        return self._map(lambda stack: flip_masks(stack, flip_direction), keep_derived=True)

    def pad(self, out_shape, pad_val=0) -> 'AmodalBitmapMasks':
        stacks = self._stacks(keep_derived=pad_val == 0)
        padded = [None if stack is None else pad_masks(stack, tuple(out_shape), pad_val)
                  for stack in stacks]
        if len(self) == 0 or any(out is None
                                 for out, stack in zip(padded, stacks) if stack is not None):
            return self._apply(BitmapMasks.pad, out_shape, pad_val=pad_val,
                               keep_derived=pad_val == 0)
        return self.from_arrays(*padded)

    def crop(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.crop, *args, keep_derived=True, **kwargs)

    def crop_and_resize(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.crop_and_resize, *args, **kwargs)

    def expand(self, *args, **kwargs) -> 'AmodalBitmapMasks':
        return self._apply(BitmapMasks.expand, *args, keep_derived=True, **kwargs)

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
        amodal = BitmapMasks.cat(masks)
        derived = all(m.invisible_is_derived for m in masks)
        return cls.from_arrays(
            amodal.masks,
            BitmapMasks.cat([m.visible for m in masks]).masks,
            None if derived else BitmapMasks.cat([m.invisible for m in masks]).masks)
