"""Copy-paste augmentation that makes amodal training images (paper 4.1 and 4.3).

Each new image starts from a random image of the source dataset with its annotations. Objects
cut out of other images are pasted onto it one after another at random positions, so the paste
order is a random depth order: every object lies in front of the background's objects and of
the objects pasted before it. Because the full outline of each pasted object is known, the masks
follow exactly, for pasted and covered objects alike:

* amodal: unchanged for background objects; the pasted outline for pasted ones;
* visible: the previous visible mask minus every object pasted later in front of it;
* invisible: amodal AND NOT visible;
* ``occluder_ids``: by the one rule of :func:`~mmorcnn.structures.occlusion_graph` on these masks.

Two modes choose what is known about the source:

* ``'amodal'`` (the paper's "amodal aug", e.g. D2S amodal augmented): a canonical amodal dataset.
  Background objects keep their amodal and visible masks; objects with an invisible part cannot
  be pasted (their hidden part has no pixels), all others can.
* ``'modal'`` (the paper's "modal aug"): any COCO instance dataset; only modal masks are used
  (``visible_mask`` when given, else ``segmentation``). Background objects take their modal mask
  as amodal mask, so amodal annotations come only from the pasted occluders, as in the paper.
  An object can be pasted only if its full outline is known, i.e. its mask touches no other
  instance (which might occlude it). The border test looks at the image border, so feed this
  mode unpadded modal annotations (e.g. D2S's own ``D2S_training.json``), not the zero-padded
  D2S amodal images, whose border-cut objects end at the padding instead.

In both modes objects touching the image border (cut by it) are not pasted unless
``skip_border=False``. Objects are placed inside the background image, off its zero-padded
margins if it has any, and a placement is redrawn when it would leave any object occluded by more
than ``max_occlusion`` of its amodal area.
"""
import os
import os.path as osp
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from mmorcnn.datasets.amodal_format import AmodalCoco, annotation_from_masks, load_amodal_coco
from mmorcnn.structures.mask_utils import rle_to_mask
from mmorcnn.structures.occlusion_order import occluder_ids, occlusion_graph
from .converters.common import SkipCounter, track

MODES = ('amodal', 'modal')

#: Random positions tried for one object before it is given up.
MAX_PLACEMENT_TRIES = 20


@dataclass
class CopyPasteSettings:
    """What :func:`generate_copy_paste` makes.

    Args:
        mode (str): ``'amodal'`` or ``'modal'``, see the module docstring. Defaults to
            ``'amodal'``.
        num_images (int): Images to generate. Defaults to 100.
        objects_per_image (tuple[int, int]): Fewest and most objects pasted into one image,
            drawn uniformly. Defaults to (1, 4).
        skip_border (bool): Do not paste objects that touch the border of their image.
            Defaults to True.
        max_occlusion (float): Largest share of an object's amodal area a paste may leave
            invisible; placements beyond it are redrawn. Defaults to 0.9.
        min_area (int): Smallest mask area in pixels of a pasted object. Defaults to 64.
        seed (int): Random seed; the same seed and source give the same images. Defaults to 0.
    """
    mode: str = 'amodal'
    num_images: int = 100
    objects_per_image: Tuple[int, int] = (1, 4)
    skip_border: bool = True
    max_occlusion: float = 0.9
    min_area: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        low, high = self.objects_per_image
        if self.mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, not {self.mode!r}')
        if not 0 <= low <= high:
            raise ValueError(f'objects_per_image must be (min, max) with 0 <= min <= max, not '
                             f'{self.objects_per_image}')
        if not 0 <= self.max_occlusion <= 1:
            raise ValueError(f'max_occlusion must lie in [0, 1], not {self.max_occlusion}')


@dataclass
class _Instance:
    """An object of the image being built; masks of the full image."""
    category_id: int
    amodal: np.ndarray
    visible: np.ndarray
    iscrowd: int = 0
    extra: dict = field(default_factory=dict)


def _touches_border(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _modal_mask(ann: dict) -> np.ndarray:
    return rle_to_mask(ann['visible'])


def image_instances(anns: Sequence[dict], mode: str) -> List[_Instance]:
    """The annotated objects of a source image; in ``'modal'`` mode amodal = modal mask."""
    instances = []
    for ann in anns:
        visible = _modal_mask(ann)
        amodal = visible.copy() if mode == 'modal' else rle_to_mask(ann['amodal'])
        if amodal.any():  # a fully hidden object has no modal mask to stand in for its amodal
            instances.append(_Instance(ann['category_id'], amodal, visible, ann['iscrowd']))
    return instances


def paste_candidates(coco: AmodalCoco, settings: CopyPasteSettings,
                     skipped: SkipCounter) -> List[dict]:
    """The annotations whose object can be cut out whole; the others are counted in
    ``skipped`` by reason."""
    candidates = []
    kernel = np.ones((3, 3), np.uint8)
    for img in coco.images:
        anns = coco.anns_by_image[img['id']]
        masks = [_modal_mask(ann) for ann in anns]
        coverage = np.sum(masks, axis=0, dtype=np.int32) if masks else None
        for ann, mask in zip(anns, masks):
            if ann['iscrowd']:
                reason = 'crowd regions'
            elif mask.sum() < settings.min_area:
                reason = f'objects smaller than {settings.min_area} pixels'
            elif settings.mode == 'amodal' and rle_to_mask(ann['invisible']).any():
                reason = 'occluded objects (their hidden part has no pixels)'
            elif settings.mode == 'modal' and (cv2.dilate(mask, kernel).astype(bool)
                                               & (coverage - mask > 0)).any():
                reason = 'objects touching another instance (outline unknown)'
            elif settings.skip_border and _touches_border(mask):
                reason = 'objects touching the image border'
            else:
                candidates.append(ann)
                continue
            skipped.skip(f'not pasted: {reason}')
    return candidates


class _ImageReader:
    """Reads source images by record, keeping the last few in memory."""

    def __init__(self, img_dir: str, ann_file: str, cache_size: int = 8) -> None:
        self.img_dir, self.ann_file, self.cache_size = img_dir, ann_file, cache_size
        self.cache: 'OrderedDict[int, np.ndarray]' = OrderedDict()

    def __call__(self, img_info: dict) -> np.ndarray:
        image_id = img_info['id']
        if image_id not in self.cache:
            path = osp.join(self.img_dir, img_info['file_name'])
            pixels = cv2.imread(path, cv2.IMREAD_COLOR)
            if pixels is None:
                raise FileNotFoundError(f'{self.ann_file}: image {image_id}: image file {path} '
                                        'is missing or unreadable')
            if pixels.shape[:2] != (img_info['height'], img_info['width']):
                raise ValueError(f'{self.ann_file}: image {image_id}: image file {path} is '
                                 f'{pixels.shape[0]}x{pixels.shape[1]}, its record says '
                                 f"{img_info['height']}x{img_info['width']}")
            self.cache[image_id] = pixels
            if len(self.cache) > self.cache_size:
                self.cache.popitem(last=False)
        self.cache.move_to_end(image_id)
        return self.cache[image_id]


def content_box(image: np.ndarray) -> Tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` of the image without its zero-padded (black) margins,
    so that nothing is pasted on the padding of D2S amodal or synthetic images."""
    content = image.reshape(image.shape[0], image.shape[1], -1).any(axis=2)
    rows, cols = np.nonzero(content.any(axis=1))[0], np.nonzero(content.any(axis=0))[0]
    if not len(rows):
        return 0, image.shape[0], 0, image.shape[1]
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _placement_ok(instances: List[_Instance], patch: np.ndarray, y: int, x: int,
                  max_occlusion: float) -> bool:
    """Whether pasting ``patch`` at ``(y, x)`` leaves every object it covers at most
    ``max_occlusion`` occluded."""
    h, w = patch.shape
    for inst in instances:
        if inst.iscrowd:
            continue
        covered = int((inst.visible[y:y + h, x:x + w] & patch).sum())
        if covered and inst.visible.sum() - covered < (1 - max_occlusion) * inst.amodal.sum():
            return False
    return True


def paste_object(canvas: np.ndarray, instances: List[_Instance], source: np.ndarray,
                 ann: dict, rng: np.random.Generator, settings: CopyPasteSettings) -> bool:
    """Paste the object of ``ann`` (cut from ``source``) onto ``canvas`` in front of all
    ``instances``, updating their visible masks; ``False`` if no placement was found."""
    mask = _modal_mask(ann)
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    patch = mask[y0:y1, x0:x1]
    h, w = patch.shape
    height, width = canvas.shape[:2]
    top, bottom, left, right = content_box(canvas)
    if h > bottom - top or w > right - left:
        return False
    for _ in range(MAX_PLACEMENT_TRIES):
        y, x = int(rng.integers(top, bottom - h + 1)), int(rng.integers(left, right - w + 1))
        if _placement_ok(instances, patch, y, x, settings.max_occlusion):
            break
    else:
        return False
    region = canvas[y:y + h, x:x + w]
    region[patch.astype(bool)] = source[y0:y1, x0:x1][patch.astype(bool)]
    for inst in instances:
        inst.visible[y:y + h, x:x + w] &= 1 - patch
    amodal = np.zeros((height, width), np.uint8)
    amodal[y:y + h, x:x + w] = patch
    instances.append(_Instance(ann['category_id'], amodal, amodal.copy(),
                               extra=dict(source_image_id=ann['image_id'],
                                          source_ann_id=ann['id'])))
    return True


def _occluder_ids(instances: Sequence[_Instance], first_id: int) -> List[List[int]]:
    """``occluder_ids`` of an image's instances (numbered from ``first_id``) by the one rule of
    :func:`~mmorcnn.structures.occlusion_graph`, the relations that predictions are scored on."""
    if not instances:
        return []
    amodal = np.stack([inst.amodal for inst in instances]).astype(bool)
    visible = np.stack([inst.visible for inst in instances]).astype(bool) & amodal  # as written
    graph = occlusion_graph(amodal, visible)
    return occluder_ids(range(first_id, first_id + len(instances)), graph.occluders)


def generate_copy_paste(ann_file: str,
                        img_dir: str,
                        out_img_dir: str,
                        settings: CopyPasteSettings = CopyPasteSettings(),
                        on_error: str = 'raise',
                        progress: bool = False) -> Tuple[dict, SkipCounter, int]:
    """Generate copy-paste images and their canonical annotations.

    Args:
        ann_file (str): The source annotations: canonical amodal (``'amodal'`` mode) or any COCO
            instance file (``'modal'`` mode); read with ``load_amodal_coco``.
        img_dir (str): Folder the source ``file_name`` entries are relative to.
        out_img_dir (str): Folder the new images are written to (``000000.jpg`` ...; the
            extension of the background image).
        settings (CopyPasteSettings): What to generate. Defaults to ``CopyPasteSettings()``.
        on_error (str): ``'raise'`` or ``'skip'`` for malformed source annotations. Defaults to
            ``'raise'``.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        tuple: The canonical dataset (images named after their index, ``source_image_id`` the
        background image; pasted annotations carry ``source_image_id`` and ``source_ann_id``),
        the :class:`SkipCounter` (source objects not pasted and pastes given up, by reason) and
        the number of pasted objects.
    """
    coco = load_amodal_coco(ann_file, on_error=on_error)
    skipped = SkipCounter(on_error)
    skipped.skip('invalid source annotations', len(coco.skipped))
    candidates = paste_candidates(coco, settings, skipped)
    if not candidates:
        raise ValueError(f'{ann_file}: no object can be pasted; left out: '
                         f'{dict(skipped.reasons)}')
    images_by_id: Dict[int, dict] = {img['id']: img for img in coco.images}
    read = _ImageReader(img_dir, ann_file)
    rng = np.random.default_rng(settings.seed)
    os.makedirs(out_img_dir, exist_ok=True)

    images, annotations, num_pasted = [], [], 0
    low, high = settings.objects_per_image
    for index in track(range(settings.num_images), progress):
        background = coco.images[int(rng.integers(len(coco.images)))]
        canvas = read(background).copy()
        instances = image_instances(coco.anns_by_image[background['id']], settings.mode)
        others = [a for a in candidates if a['image_id'] != background['id']] or candidates
        for _ in range(int(rng.integers(low, high + 1))):
            ann = others[int(rng.integers(len(others)))]
            if paste_object(canvas, instances, read(images_by_id[ann['image_id']]), ann, rng,
                            settings):
                num_pasted += 1
            else:
                skipped.skip(f'pastes given up (no placement within max_occlusion '
                             f'{settings.max_occlusion} in {MAX_PLACEMENT_TRIES} tries, or '
                             'object larger than the image)')
        file_name = f'{index:06d}' + osp.splitext(background['file_name'])[1]
        cv2.imwrite(osp.join(out_img_dir, file_name), canvas)
        image_id = index + 1
        images.append(dict(id=image_id, file_name=file_name, height=canvas.shape[0],
                           width=canvas.shape[1], source_image_id=background['id']))
        hidden_by = _occluder_ids(instances, len(annotations) + 1)
        for inst, occluders in zip(instances, hidden_by):
            annotations.append(
                annotation_from_masks(len(annotations) + 1, image_id, inst.category_id,
                                      inst.amodal, inst.visible, inst.iscrowd,
                                      occluder_ids=occluders, **inst.extra))
    dataset = dict(
        info=dict(description=f'copy-paste {settings.mode} augmentation (mmorcnn)',
                  source=osp.basename(ann_file), settings=asdict(settings)),
        images=images,
        annotations=annotations,
        categories=list(coco.categories))
    return dataset, skipped, num_pasted
