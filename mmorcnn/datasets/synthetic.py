"""A seeded synthetic amodal instance segmentation dataset that ships with mmorcnn.

Every image shows 2-7 textured shapes of six classes in a random depth order on a textured noise
background. Because the scene is drawn from its shapes, the amodal, visible and invisible masks are
exact by construction:

* ``amodal``: the whole rasterised shape;
* ``visible``: amodal minus the amodal masks of all shapes in front, minus the part that lies
  outside the camera view;
* ``invisible``: amodal AND NOT visible, so ``occlude_rate`` = invisible area / amodal area.

Objects cut by the image border are handled as D2S amodal does: the camera view (``view_size``
square) is stored zero-padded by ``margin`` pixels on each side, so every amodal mask lies inside
the stored image, and the part of an object outside the view is black and counts as invisible.

Each class has its own shape and its own texture / colour family, so both the class and its
amodal shape are learnable. Images are rendered front to back: a shape is placed behind those
already placed and its placement is resampled until it keeps a visible part of reasonable size
(``occlude_rate <= max_occlude_rate``), so placing it never changes the masks of shapes in front.

The output is mmdet's COCO layout in the canonical annotation format (docs/annotation_format.md)::

    OUT_DIR/annotations/train.json   OUT_DIR/train/000000.png ...
    OUT_DIR/annotations/val.json     OUT_DIR/val/000000.png ...

Generation is deterministic: image ``i`` of a split depends only on ``(seed, split, i)``, so the
same seed gives byte-identical JSON and identical pixels, whatever the number of images.
"""
import colorsys
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from mmorcnn.datasets.amodal_format import annotation_from_masks
from mmorcnn.datasets.statistics import dataset_statistics
from mmorcnn.structures.mask_utils import rle_to_mask
from mmorcnn.structures.occlusion_levels import PARTIAL_MAX
from mmorcnn.structures.occlusion_order import occlusion_graph
from mmorcnn.utils.text_table import format_table

CLASSES: Tuple[str, ...] = ('disc', 'square', 'triangle', 'star', 'cross', 'hexagon')

# Texture kind and hue (degrees) of each class, in the order of CLASSES.
CLASS_STYLES: Dict[str, Tuple[str, float]] = {
    'disc': ('radial', 5.),
    'square': ('checker', 220.),
    'triangle': ('stripes', 120.),
    'star': ('dots', 55.),
    'cross': ('speckle', 300.),
    'hexagon': ('gradient', 180.),
}

SPLITS: Tuple[str, ...] = ('train', 'val')


@dataclass(frozen=True)
class SyntheticAmodalSpec:
    """Parameters of the synthetic scenes.

    Args:
        view_size (int): Side of the square camera view in pixels. Defaults to 160.
        margin (int): Zero padding on each side of the view; the stored image is
            ``view_size + 2 * margin`` square. Defaults to 16.
        min_objects (int): Fewest shapes per image. Defaults to 2.
        max_objects (int): Most shapes per image. Defaults to 7.
        min_object_size (float): Smallest diameter of a shape's circumcircle in pixels, before
            the aspect jitter. Defaults to 24.
        max_object_size (float): Largest such diameter. Defaults to 70.
        max_aspect_jitter (float): Shapes are stretched by ``a`` along one axis and by ``1 / a``
            along the other, ``log a`` uniform in ``+-log(max_aspect_jitter)``. Defaults to 1.2.
        max_occlude_rate (float): Placements leaving a larger share of a shape invisible are
            resampled. Defaults to 0.85.
        min_visible_area (int): Placements leaving fewer visible pixels are resampled.
            Defaults to 60.
        overlap_prob (float): Probability that a shape behind others is placed next to one of
            them (so that it is occluded) rather than anywhere in the view. Defaults to 0.6.
        border_image_prob (float): Share of images in which one shape is placed across the
            border of the camera view. Defaults to 0.15.
        max_placement_tries (int): Placements tried per shape before it is left out.
            Defaults to 50.
    """
    view_size: int = 160
    margin: int = 16
    min_objects: int = 2
    max_objects: int = 7
    min_object_size: float = 24.
    max_object_size: float = 70.
    max_aspect_jitter: float = 1.2
    max_occlude_rate: float = 0.85
    min_visible_area: int = 60
    overlap_prob: float = 0.6
    border_image_prob: float = 0.15
    max_placement_tries: int = 50

    @property
    def image_size(self) -> int:
        """Side of the stored (padded) image."""
        return self.view_size + 2 * self.margin


@dataclass
class SyntheticObject:
    """One rendered shape; masks are ``(H, W)`` bool arrays of the stored image."""
    label: int  # index into CLASSES
    order: int  # depth rank, 1 = front
    amodal: np.ndarray
    visible: np.ndarray
    # indices (into the scene's objects) of the shapes that hide part of it, by the one rule of
    # mmorcnn.structures.occlusion_order (its invisible part lies on their visible parts)
    occluders: List[int]

    @property
    def invisible(self) -> np.ndarray:
        return self.amodal & ~self.visible

    @property
    def occlude_rate(self) -> float:
        amodal_area = int(self.amodal.sum())
        return int(self.invisible.sum()) / amodal_area


def camera_view_mask(spec: SyntheticAmodalSpec = SyntheticAmodalSpec()) -> np.ndarray:
    """``(H, W)`` bool mask of the camera view inside the zero-padded stored image."""
    view = np.zeros((spec.image_size, spec.image_size), bool)
    m = spec.margin
    view[m:m + spec.view_size, m:m + spec.view_size] = True
    return view


@dataclass
class ShapePose:
    """Where and how a shape's unit outline is drawn."""
    center: np.ndarray  # (x, y) in stored-image pixels
    radius: float  # circumradius before the aspect jitter
    scale: np.ndarray  # (sx, sy) aspect jitter
    angle: float  # radians


def shape_outline(name: str) -> np.ndarray:
    """The outline of a class's shape as ``(N, 2)`` points inside the unit circle."""
    if name == 'disc':
        t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        return np.stack([np.cos(t), np.sin(t)], 1)
    if name in ('square', 'triangle', 'hexagon'):
        n = {'square': 4, 'triangle': 3, 'hexagon': 6}[name]
        t = np.arange(n) * 2 * np.pi / n - np.pi / 2
        return np.stack([np.cos(t), np.sin(t)], 1)
    if name == 'star':
        t = np.arange(10) * np.pi / 5 - np.pi / 2
        r = np.where(np.arange(10) % 2 == 0, 1., 0.45)
        return np.stack([r * np.cos(t), r * np.sin(t)], 1)
    if name == 'cross':
        w = 0.3  # half width of an arm; arms reach the unit circle
        a = np.sqrt(1 - w * w)
        quarter = np.array([[w, -a], [w, -w], [a, -w]])
        rot90 = np.array([[0., -1.], [1., 0.]])
        return np.concatenate([quarter @ np.linalg.matrix_power(rot90, k).T for k in range(4)])
    raise ValueError(f'unknown shape {name!r}; known: {CLASSES}')


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _outline_offsets(name: str, pose: ShapePose) -> np.ndarray:
    """Outline points of a posed shape relative to its centre, in pixels."""
    return (shape_outline(name) * pose.radius * pose.scale) @ _rotation(pose.angle).T


def rasterize_shape(name: str, pose: ShapePose, image_size: int) -> np.ndarray:
    """The ``(H, W)`` bool mask of a posed shape (pixel centres on integer coordinates)."""
    points = pose.center + _outline_offsets(name, pose)
    mask = np.zeros((image_size, image_size), np.uint8)
    cv2.fillPoly(mask, [np.round(points * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def _hsv(hue: float, sat: float, val: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb((hue / 360.) % 1., sat, val)) * 255.


def shape_texture(name: str, pose: ShapePose, rng: np.random.Generator, ys: np.ndarray,
                  xs: np.ndarray) -> np.ndarray:
    """RGB float colours of a class's texture at pixels ``(ys, xs)``.

    The texture lives in the shape's own frame, so stripes, checkers and gradients turn with it.
    """
    kind, hue = CLASS_STYLES[name]
    hue += rng.uniform(-12, 12)
    sat, val = rng.uniform(0.55, 0.9), rng.uniform(0.65, 0.95)
    offsets = np.stack([xs, ys], 1) - pose.center
    u, v = ((offsets @ _rotation(pose.angle)) / (pose.radius * pose.scale)).T
    base = _hsv(hue, sat, val)
    if kind == 'radial':  # bright centre fading to a dark rim
        t = np.clip(1 - np.hypot(u, v), 0, 1)[:, None]
        colours = base * (0.35 + 0.65 * t)
    elif kind == 'checker':
        cells = rng.integers(3, 5)
        odd = (np.floor((u + 1) * cells / 2) + np.floor((v + 1) * cells / 2)) % 2 == 1
        colours = np.where(odd[:, None], base, _hsv(hue, sat * 0.5, val * 0.45))
    elif kind == 'stripes':
        period = rng.uniform(0.3, 0.5)
        on = (v / period + rng.uniform()) % 1 < 0.5
        colours = np.where(on[:, None], base, _hsv(hue, sat, val * 0.4))
    elif kind == 'dots':
        spacing, radius = rng.uniform(0.35, 0.45), rng.uniform(0.09, 0.13)
        du, dv = (u % spacing) - spacing / 2, (v % spacing) - spacing / 2
        dot = du * du + dv * dv < radius * radius
        colours = np.where(dot[:, None], _hsv(hue + 180, 0.6, 0.3), base)
    elif kind == 'speckle':
        colours = base + rng.normal(0, 28, (len(u), 3))
    elif kind == 'gradient':
        t = np.clip((u + 1) / 2, 0, 1)[:, None]
        colours = base * (0.3 + 0.7 * t)
    else:
        raise ValueError(f'unknown texture {kind!r}')
    return colours + rng.normal(0, 4, colours.shape)


def noise_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A ``(size, size, 3)`` float background: smooth low-saturation blotches plus grain."""
    grid = rng.uniform(70, 170, (6, 6, 1)) + rng.uniform(-18, 18, (6, 6, 3))
    smooth = cv2.resize(grid.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.normal(0, 14, (size // 4, size // 4, 3)).astype(np.float32),
                      (size, size), interpolation=cv2.INTER_LINEAR)
    return smooth + fine + rng.normal(0, 6, (size, size, 3))


def _sample_size(rng: np.random.Generator, spec: SyntheticAmodalSpec) -> Tuple[float, np.ndarray]:
    radius = rng.uniform(spec.min_object_size, spec.max_object_size) / 2
    a = np.exp(rng.uniform(-1, 1) * np.log(spec.max_aspect_jitter))
    return radius, np.array([a, 1 / a])


def _sample_pose(rng: np.random.Generator, spec: SyntheticAmodalSpec, name: str,
                 front: Sequence[ShapePose], border: bool) -> ShapePose:
    """A pose inside the view, next to a shape in front, or across the view border."""
    radius, scale = _sample_size(rng, spec)
    pose = ShapePose(np.zeros(2), radius, scale, rng.uniform(0, 2 * np.pi))
    offsets = _outline_offsets(name, pose)
    lo = spec.margin - offsets.min(0)  # centre range keeping the shape inside the view
    hi = spec.margin + spec.view_size - 1 - offsets.max(0)
    center = rng.uniform(lo, hi)
    if front and rng.random() < spec.overlap_prob:
        anchor = front[rng.integers(len(front))]
        dist = rng.uniform(0.2, 1.1) * (anchor.radius + radius)
        t = rng.uniform(0, 2 * np.pi)
        center = np.clip(anchor.center + dist * np.array([np.cos(t), np.sin(t)]), lo, hi)
    if border:  # stick out of one side of the view by 15-50 % of the extent, within the margin
        axis, side = rng.integers(2), rng.integers(2)
        extent = offsets.max(0)[axis] - offsets.min(0)[axis]
        out = min(rng.uniform(0.15, 0.5) * extent, spec.margin - 2)
        center[axis] = lo[axis] - out if side == 0 else hi[axis] + out
    pose.center = center
    return pose


def render_scene(rng: np.random.Generator,
                 spec: SyntheticAmodalSpec = SyntheticAmodalSpec()
                 ) -> Tuple[np.ndarray, List[SyntheticObject]]:
    """Render one image and its shapes.

    Args:
        rng (np.random.Generator): The only source of randomness.
        spec (SyntheticAmodalSpec): Scene parameters. Defaults to ``SyntheticAmodalSpec()``.

    Returns:
        tuple: ``(image, objects)``; ``image`` is ``(H, W, 3)`` uint8 RGB with the area outside
        the camera view black, ``objects`` are front to back (``order`` 1, 2, ...).
    """
    size = spec.image_size
    view = camera_view_mask(spec)

    num = int(rng.integers(spec.min_objects, spec.max_objects + 1))
    border_index = int(rng.integers(num)) if rng.random() < spec.border_image_prob else -1
    objects: List[SyntheticObject] = []
    poses: List[ShapePose] = []
    covered = np.zeros((size, size), bool)  # union of the amodal masks in front
    for k in range(num):
        label = int(rng.integers(len(CLASSES)))
        name = CLASSES[label]
        for _ in range(spec.max_placement_tries):
            pose = _sample_pose(rng, spec, name, poses, border=k == border_index)
            amodal = rasterize_shape(name, pose, size)
            visible = amodal & ~covered & view
            amodal_area, visible_area = int(amodal.sum()), int(visible.sum())
            if (visible_area >= spec.min_visible_area
                    and 1 - visible_area / amodal_area <= spec.max_occlude_rate):
                break
        else:
            continue  # no placement keeps enough of it visible: leave it out
        objects.append(SyntheticObject(label, len(objects) + 1, amodal, visible, []))
        poses.append(pose)
        covered |= amodal
    if objects:  # ground-truth relations by the rule that predictions are scored with
        graph = occlusion_graph(np.stack([obj.amodal for obj in objects]),
                                np.stack([obj.visible for obj in objects]))
        for obj, hidden_by in zip(objects, graph.occluders):
            obj.occluders = np.flatnonzero(hidden_by).tolist()

    image = noise_background(rng, size)
    for obj, pose in zip(objects, poses):  # front to back: paint only what is still visible
        ys, xs = np.nonzero(obj.visible)
        image[ys, xs] = shape_texture(CLASSES[obj.label], pose, rng, ys, xs)
    image += rng.normal(0, 3, image.shape)
    image[~view] = 0
    return np.clip(np.round(image), 0, 255).astype(np.uint8), objects


def scene_annotations(objects: Sequence[SyntheticObject], image_id: int,
                      first_ann_id: int) -> List[dict]:
    """Canonical annotations (docs/annotation_format.md) of one rendered image.

    Annotation ids are consecutive from ``first_ann_id`` in depth order (``order``, 1 = front);
    ``occluder_ids`` are the ids of the shapes that hide part of this one by the one rule of
    :func:`~mmorcnn.structures.occlusion_graph` (this shape's invisible part lies on their
    visible parts, beyond its noise thresholds), the relations that predictions are scored on.
    """
    return [annotation_from_masks(first_ann_id + k, image_id, obj.label + 1, obj.amodal,
                                  obj.visible, write_all_masks=True, order=obj.order,
                                  occluder_ids=[first_ann_id + j for j in obj.occluders])
            for k, obj in enumerate(objects)]


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of image ``index`` of ``split``: independent of the split sizes."""
    return np.random.default_rng([seed, SPLITS.index(split), index])


def split_statistics(coco: dict,
                     spec: SyntheticAmodalSpec = SyntheticAmodalSpec()) -> dict:
    """Counts and occlusion rates of a dataset in the canonical format.

    The occlusion counts are those of :func:`~mmorcnn.datasets.statistics.dataset_statistics`:
    an instance is ``partial`` if ``0 < occlude_rate <=`` :data:`PARTIAL_MAX`, ``heavy`` above
    (the occlusion levels of the metric); ``border_cut`` if its amodal mask leaves the camera
    view of ``spec``.
    """
    anns = coco['annotations']
    stats = dataset_statistics(coco)
    outside = ~camera_view_mask(spec)
    border_cut = [a for a in anns if (rle_to_mask(a['segmentation']).astype(bool) & outside).any()]
    return dict(
        images=stats.num_images,
        instances=stats.num_objects,
        occluded=stats.num_objects_occluded,
        unoccluded=stats.num_objects - stats.num_objects_occluded,
        partial=stats.num_objects_partial,
        heavy=stats.num_objects_heavy,
        border_cut=len(border_cut),
        border_cut_images=len({a['image_id'] for a in border_cut}),
        mean_occlude_rate=stats.mean_occlusion_all,
        max_occlude_rate=stats.max_occlusion,
        instances_per_class=[sum(a['category_id'] == i + 1 for a in anns)
                             for i in range(len(CLASSES))])


def generate_split(out_dir: str, split: str, num_images: int, seed: int = 0,
                   spec: SyntheticAmodalSpec = SyntheticAmodalSpec(),
                   progress: bool = False) -> dict:
    """Write ``out_dir/<split>/*.png`` and ``out_dir/annotations/<split>.json``.

    Args:
        out_dir (str): Dataset root.
        split (str): ``'train'`` or ``'val'``.
        num_images (int): Number of images.
        seed (int): Dataset seed. Defaults to 0.
        spec (SyntheticAmodalSpec): Scene parameters. Defaults to ``SyntheticAmodalSpec()``.
        progress (bool): Show an mmengine progress bar. Defaults to False.

    Returns:
        dict: ``split_statistics`` of the written split.
    """
    if split not in SPLITS:
        raise ValueError(f'unknown split {split!r}; known: {SPLITS}')
    img_dir = osp.join(out_dir, split)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    bar = None
    if progress and num_images:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(num_images)

    images, annotations = [], []
    for index in range(num_images):
        image, objects = render_scene(image_rng(seed, split, index), spec)
        file_name = f'{index:06d}.png'
        cv2.imwrite(osp.join(img_dir, file_name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        image_id = index + 1
        images.append(
            dict(id=image_id, file_name=file_name, height=image.shape[0], width=image.shape[1]))
        annotations.extend(scene_annotations(objects, image_id, len(annotations) + 1))
        if bar is not None:
            bar.update()
    if bar is not None:
        print()

    coco = dict(
        info=dict(
            description='mmorcnn synthetic amodal shapes',
            generator='mmorcnn.datasets.synthetic',
            split=split,
            seed=seed,
            params=asdict(spec)),
        licenses=[],
        images=images,
        annotations=annotations,
        categories=[
            dict(id=i + 1, name=name, supercategory='shape') for i, name in enumerate(CLASSES)
        ])
    with open(osp.join(out_dir, 'annotations', f'{split}.json'), 'w') as f:
        json.dump(coco, f)
    return split_statistics(coco, spec)


def generate_synthetic_amodal(out_dir: str,
                              num_train: int = 800,
                              num_val: int = 100,
                              seed: int = 0,
                              spec: SyntheticAmodalSpec = SyntheticAmodalSpec(),
                              progress: bool = False) -> Dict[str, dict]:
    """Write the synthetic amodal dataset (train and val) under ``out_dir``.

    Args:
        out_dir (str): Dataset root; gets ``annotations/``, ``train/`` and ``val/``.
        num_train (int): Training images. Defaults to 800.
        num_val (int): Validation images. Defaults to 100.
        seed (int): Dataset seed; the same seed gives the same dataset. Defaults to 0.
        spec (SyntheticAmodalSpec): Scene parameters. Defaults to ``SyntheticAmodalSpec()``.
        progress (bool): Show a progress bar per split. Defaults to False.

    Returns:
        dict: ``{'train': stats, 'val': stats}`` as returned by :func:`split_statistics`.
    """
    return {
        split: generate_split(out_dir, split, num, seed, spec, progress)
        for split, num in zip(SPLITS, (num_train, num_val))
    }


def format_split_statistics(stats: Dict[str, dict]) -> str:
    """The table of :func:`generate_synthetic_amodal`'s statistics: one row per split."""
    header = ('split', 'images', 'instances', 'occluded', 'partial', 'heavy', 'border-cut',
              'mean occ. rate')
    rows = []
    for split, s in stats.items():
        share = s['occluded'] / max(s['instances'], 1)
        rows.append((split, s['images'], s['instances'], f"{s['occluded']} ({share:.0%})",
                     s['partial'], s['heavy'], s['border_cut'], f"{s['mean_occlude_rate']:.3f}"))
    return format_table(rows, header, align='r')


__all__ = [
    'CLASSES', 'PARTIAL_MAX', 'CLASS_STYLES', 'SyntheticAmodalSpec', 'SyntheticObject',
    'ShapePose', 'shape_outline',
    'rasterize_shape', 'shape_texture', 'noise_background', 'render_scene', 'scene_annotations',
    'image_rng', 'camera_view_mask', 'split_statistics', 'generate_split',
    'generate_synthetic_amodal', 'format_split_statistics'
]
