"""Amodal instance masks that carry their visible and invisible parts along (docs/design.md).

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
  a third stack and transforms all three with mmdet's own method.
- **All masks of an image in one call.** ``rescale`` / ``resize`` (nearest), ``flip`` and ``pad``
  work on the whole ``(N, H, W)`` stack at once instead of one mask at a time, and no operation
  copies its result a second time (``BitmapMasks.__init__`` does, with ``np.stack``).

**Occluder masks, derived too.** With ``occluders`` (an ``(N, N)`` bool matrix, ``[i, j]`` true when
instance ``j`` hides part of instance ``i``), :attr:`AmodalBitmapMasks.occluder` is the union of
the visible masks of each instance's occluders, the ground truth of occluder-aware heads (BCNet,
AISFormer). It is computed from the visible stack when it is read, which is exact after the same
operations as above, and becomes a stack of its own before any other operation. Indexing that
drops an occluder of a kept instance (``FilterAnnotations``, ``RandomCrop`` leaving instances
out, the split of ignored instances) also turns it into a stack first, computed from the full
visible stack: the occluder mask of a kept instance still holds the visible pixels of occluders
that are no instances of the image any more.

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
        occluders (np.ndarray, optional): ``(N, N)`` bool, ``[i, j]`` true when instance ``j``
            hides part of instance ``i``: :attr:`occluder` is then the union of the visible masks
            of each instance's occluders. ``None``: no occluder masks. Defaults to None.
    """

    def __init__(self, masks, height: int, width: int, visible_masks,
                 invisible_masks=None, occluders: Optional[np.ndarray] = None) -> None:
        super().__init__(masks, height, width)
        self._visible = BitmapMasks(visible_masks, height, width).masks
        self._invisible = None if invisible_masks is None else BitmapMasks(
            invisible_masks, height, width).masks
        num_invisible = len(self._visible if self._invisible is None else self._invisible)
        if not len(self._visible) == num_invisible == len(self):
            raise ValueError(f'{len(self)} amodal masks but {len(self._visible)} visible and '
                             f'{num_invisible} invisible masks')
        self._occluder = None
        self._occluders = None if occluders is None else _relation(occluders, len(self))

    @classmethod
    def from_arrays(cls, masks: np.ndarray, visible: np.ndarray,
                    invisible: Optional[np.ndarray] = None, occluder: Optional[np.ndarray] = None,
                    occluders: Optional[np.ndarray] = None) -> 'AmodalBitmapMasks':
        """Wrap ``(N, H, W)`` arrays of one shape without copying them (unlike the constructor):
        for arrays that nothing else holds. ``invisible=None``: amodal AND NOT visible.
        ``occluder``: ``(N, H, W)`` occluder masks carried as a stack; else ``occluders``, the
        ``(N, N)`` relation they are derived from (class docstring); neither: no occluder
        masks."""
        new = cls.__new__(cls)
        new.masks, new._visible, new._invisible = masks, visible, invisible
        new._occluder = occluder
        new._occluders = None if occluders is None or occluder is not None else _relation(
            occluders, len(masks))
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
    def with_occluder(self) -> bool:
        """bool: Whether the masks know each instance's occluder mask (:attr:`occluder`)."""
        return self._occluder is not None or self._occluders is not None

    @property
    def occluder(self) -> BitmapMasks:
        """The occluder masks, as a plain ``BitmapMasks``: per instance, the union of the visible
        masks of the instances that hide part of it (empty for an instance nothing hides).

        Raises:
            AttributeError: The masks were made without ``occluders``.
        """
        if not self.with_occluder:
            raise AttributeError('these AmodalBitmapMasks have no occluder masks: load them with '
                                 'LoadAmodalAnnotations(with_occluder=True)')
        return wrap_bitmap_masks(self._occluder_array(), self.height, self.width)

    @property
    def occluders(self) -> Optional[np.ndarray]:
        """np.ndarray or None: The ``(N, N)`` relation the occluder masks are derived from;
        ``None`` once they are a stack of their own (or without occluder masks)."""
        return None if self._occluder is not None else self._occluders

    def _occluder_array(self) -> np.ndarray:
        if self._occluder is not None:
            return self._occluder
        return union_of_masks(self._occluders, self._visible)

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
        """The amodal, visible, invisible and occluder arrays; ``None`` for a derived stack that
        the caller's operation keeps exact (``keep_derived``) and for absent occluder masks."""
        invisible = None if keep_derived and self._invisible is None else self._invisible_array()
        occluder = self._occluder
        if occluder is None and self._occluders is not None and not keep_derived:
            occluder = self._occluder_array()
        return self.masks, self._visible, invisible, occluder

    def _relation_kept(self, keep_derived: bool) -> Optional[np.ndarray]:
        """The occluder relation of the result of an operation on every instance."""
        return self._occluders if keep_derived else None

    def _map(self, fn: Callable[[np.ndarray], np.ndarray],
             keep_derived: bool) -> 'AmodalBitmapMasks':
        """Apply an array operation to every stack (the derived ones only if not exact)."""
        return self.from_arrays(*(None if stack is None else fn(stack)
                                 for stack in self._stacks(keep_derived)),
                                occluders=self._relation_kept(keep_derived))

    def _apply(self, method: Callable, *args, keep_derived: bool = False,
               **kwargs) -> 'AmodalBitmapMasks':
        """Apply a ``BitmapMasks`` method with the same arguments to every stack."""
        height, width = self.height, self.width
        return self.from_arrays(*(None if stack is None else method(
            wrap_bitmap_masks(stack, height, width), *args, **kwargs).masks
                                 for stack in self._stacks(keep_derived)),
                                occluders=self._relation_kept(keep_derived))

    def __getitem__(self, index) -> 'AmodalBitmapMasks':
        height, width = self.height, self.width

        def take(stack: np.ndarray) -> np.ndarray:
            picked = stack[index].reshape(-1, height, width)
            if len(picked) == 0:  # as BitmapMasks.__init__ makes empty masks
                return np.empty((0, height, width), dtype=np.uint8)
            return _fresh(picked, stack)

        relation = None
        if self._occluder is None and self._occluders is not None:
            kept = np.arange(len(self))[index].reshape(-1)
            rows = self._occluders[kept]
            dropped = np.ones(len(self), bool)
            dropped[kept] = False
            if not rows[:, dropped].any():  # every occluder of a kept instance stays
                relation = rows[:, kept]
        if relation is None:  # occluders leave: their visible pixels stay in a stack
            return self.from_arrays(*(None if stack is None else take(stack) for stack in (
                self.masks, self._visible, self._invisible,
                self._occluder_array() if self.with_occluder else None)))
        derived = self.from_arrays(*(None if stack is None else take(stack) for stack in (
            self.masks, self._visible, self._invisible)))
        derived._occluders = relation
        return derived

    def _resize(self, height: int, width: int, method: Callable, *args,
                interpolation: str) -> 'AmodalBitmapMasks':
        """Nearest-neighbour resizes of the whole stacks; otherwise mmdet's ``method``."""
        nearest = interpolation == 'nearest'  # moves pixels only: AND NOT stays exact
        stacks = self._stacks(keep_derived=nearest)
        resized = [None if stack is None or not nearest else resize_nearest(stack, height, width)
                   for stack in stacks]
        if any(out is None for out, stack in zip(resized, stacks) if stack is not None):
            return self._apply(method, *args, interpolation=interpolation, keep_derived=nearest)
        return self.from_arrays(*resized, occluders=self._relation_kept(nearest))

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
        return self.from_arrays(*padded, occluders=self._relation_kept(pad_val == 0))

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
        """Concatenate amodal masks and their parts instance-wise (an instance's occluders are
        among the masks it came with)."""
        if not all(isinstance(m, cls) for m in masks):
            raise TypeError('AmodalBitmapMasks.cat needs AmodalBitmapMasks only')
        with_occluder = {m.with_occluder for m in masks}
        if len(with_occluder) > 1:
            raise ValueError('AmodalBitmapMasks.cat: some masks have occluder masks, others not')
        amodal = BitmapMasks.cat(masks)
        derived = all(m.invisible_is_derived for m in masks)
        occluder, relation = None, None
        if with_occluder == {True}:
            if all(m.occluders is not None for m in masks):
                relation = _block_diagonal([m.occluders for m in masks])
            else:
                occluder = BitmapMasks.cat([m.occluder for m in masks]).masks
        return cls.from_arrays(
            amodal.masks,
            BitmapMasks.cat([m.visible for m in masks]).masks,
            None if derived else BitmapMasks.cat([m.invisible for m in masks]).masks,
            occluder=occluder, occluders=relation)


def _relation(occluders, num: int) -> np.ndarray:
    """``occluders`` as an ``(num, num)`` bool array with a false diagonal."""
    relation = np.array(occluders, dtype=bool).reshape(-1, num) if num else np.zeros((0, 0), bool)
    if relation.shape != (num, num):
        raise ValueError(f'occluders must be ({num}, {num}) for {num} masks, got '
                         f'{np.shape(occluders)}')
    np.fill_diagonal(relation, False)
    return relation


def _block_diagonal(relations: Sequence[np.ndarray]) -> np.ndarray:
    """The occluder relation of concatenated masks: no instance hides one of another part."""
    total = sum(len(r) for r in relations)
    out = np.zeros((total, total), bool)
    start = 0
    for relation in relations:
        out[start:start + len(relation), start:start + len(relation)] = relation
        start += len(relation)
    return out


def union_of_masks(occluders: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` masks of the dtype of ``masks``: per row ``i`` of the ``(N, M)`` bool
    ``occluders``, the union of the ``(M, H, W)`` binary ``masks`` ``j`` with ``occluders[i, j]``
    (all zero for a row without any)."""
    out = np.zeros((len(occluders), *masks.shape[1:]), dtype=masks.dtype)
    for i, row in enumerate(occluders):
        js = np.flatnonzero(row)
        if len(js):
            out[i] = masks[js].max(axis=0)
    return out
