"""Occlusion order: which instance hides which, by one rule for ground truth and predictions.

The rule (ORCNN gives it almost for free, paper section 1: "which objects have to be removed"):
instance ``j`` hides instance ``i`` when the invisible (occluded) part of ``i`` lies on the
visible part of ``j``. With ``overlap[i, j] = |invisible_i AND visible_j|`` in pixels,

* ``occluders[i, j]`` is true when ``overlap[i, j] >= min_pixels`` and
  ``overlap[i, j] >= min_fraction * |invisible_i|`` (both thresholds keep one-pixel noise along
  mask borders out);
* when both ``occluders[i, j]`` and ``occluders[j, i]`` pass (inconsistent masks), only the
  direction with the larger overlap is kept; on an exact tie neither is (the masks do not say
  which one is in front);
* ``depth[i]`` is 0 for an instance nothing hides, otherwise 1 + the largest depth of its
  occluders. A longer cycle (a hides b hides c hides a, possible with interlocking shapes or noisy
  predictions) is broken for the depth only, at its edge with the smallest overlap (ties: the
  smallest ``(i, j)``); ``occluders`` keeps the edge.

Ground-truth ``occluder_ids`` in the canonical format (docs/annotation_format.md) are this rule
applied to
the ground-truth masks, so that they mean exactly what a model's predictions are scored on.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import pycocotools.mask as maskUtils
import torch

from .mask_utils import bytes_rles, rle_and_not, rle_area

ArrayLike = Union[np.ndarray, torch.Tensor]

#: Default thresholds of the rule, documented in the module docstring.
MIN_PIXELS = 4
MIN_FRACTION = 0.05


class OcclusionGraph(NamedTuple):
    """Result of :func:`occlusion_graph`.

    Attributes:
        occluders: ``(N, N)`` bool, ``[i, j]`` true when ``j`` hides part of ``i``.
        depth: ``(N,)`` int64, 0 for an instance nothing hides, else 1 + max depth of its
            occluders.
        overlap: ``(N, N)`` int64 pixel counts ``|invisible_i AND visible_j|`` (diagonal 0).
    """
    occluders: ArrayLike
    depth: ArrayLike
    overlap: ArrayLike


def _extents(masks: ArrayLike, windows: Optional[np.ndarray] = None) -> np.ndarray:
    """``(N, 4)`` int64 half-open extents ``[y0, y1, x0, x1)`` of ``(N, H, W)`` bool masks
    (``y0 == y1`` for an empty mask), looking only inside each mask's window when ``windows``
    ((N, 4) ``[y0, y1, x0, x1)``, every true pixel inside) are given."""
    if windows is not None:
        return _extents_in_windows(masks, windows)
    if isinstance(masks, torch.Tensor):
        rows, cols = masks.any(2).cpu().numpy(), masks.any(1).cpu().numpy()
    else:
        rows, cols = masks.any(2), masks.any(1)

    def span(hit):
        first = hit.argmax(1)
        last = hit.shape[1] - hit[:, ::-1].argmax(1)
        empty = ~hit.any(1)
        first[empty], last[empty] = 0, 0
        return first, last

    (y0, y1), (x0, x1) = span(rows), span(cols)
    return np.stack([y0, y1, x0, x1], axis=1).astype(np.int64)


def _extents_in_windows(masks: ArrayLike, windows: np.ndarray) -> np.ndarray:
    """:func:`_extents`, each mask scanned inside its window only."""
    windows = np.asarray(windows)
    if windows.shape != (len(masks), 4) or (windows < 0).any():
        raise ValueError(f'windows must be ({len(masks)}, 4) non-negative [y0, y1, x0, x1) '
                         f'rows, one per mask; got shape {windows.shape}')
    extents = np.zeros((len(masks), 4), np.int64)
    for i, (wy0, wy1, wx0, wx1) in enumerate(np.asarray(windows, np.int64).tolist()):
        window = masks[i, wy0:wy1, wx0:wx1]
        rows, cols = window.any(1), window.any(0)
        if isinstance(rows, torch.Tensor):
            rows, cols = rows.cpu().numpy(), cols.cpu().numpy()
        ys, xs = np.flatnonzero(rows), np.flatnonzero(cols)
        if len(ys):
            extents[i] = wy0 + ys[0], wy0 + ys[-1] + 1, wx0 + xs[0], wx0 + xs[-1] + 1
    return extents


def occlusion_overlaps(visible: ArrayLike, invisible: ArrayLike,
                       windows: Optional[np.ndarray] = None) -> np.ndarray:
    """``(N, N)`` int64 matrix ``|invisible_i AND visible_j|`` of ``(N, H, W)`` binary masks.

    Only the pixels inside the extent of each invisible mask are looked at, and only for the
    visible masks whose extent meets it, so the cost grows with the occluded areas, not with
    ``N**2`` full images (100 predictions at full resolution stay cheap). Torch masks are
    counted on their device.

    Args:
        visible, invisible: ``(N, H, W)`` binary masks (numpy or torch).
        windows (np.ndarray, optional): ``(N, 4)`` int ``[y0, y1, x0, x1)`` of each instance,
            outside which both of its masks are empty (the window its box was pasted into):
            the extents are then found inside the windows instead of over the whole image.
            Defaults to None (whole image).
    """
    return _overlaps_and_areas(visible, invisible, windows)[0]


def _overlaps_and_areas(visible: ArrayLike, invisible: ArrayLike,
                        windows: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """:func:`occlusion_overlaps` and the ``(N,)`` int64 areas ``|invisible_i|``."""
    n = len(visible)
    overlap, area = np.zeros((n, n), np.int64), np.zeros(n, np.int64)
    if n == 0:
        return overlap, area
    visible, invisible = _numpy_on_cpu(visible), _numpy_on_cpu(invisible)
    is_torch = isinstance(visible, torch.Tensor)
    if is_torch:
        visible = visible.bool()
        invisible = torch.as_tensor(invisible, device=visible.device).bool()
    else:
        visible, invisible = np.asarray(visible, bool), np.asarray(invisible, bool)
    inv_box, vis_box = _extents(invisible, windows), _extents(visible, windows)
    for i in range(n):
        y0, y1, x0, x1 = inv_box[i].tolist()
        if y1 <= y0:
            continue
        occluded = invisible[i, y0:y1, x0:x1]
        area[i] = _count(occluded.reshape(1, -1))[0]
        meets = ((vis_box[:, 0] < y1) & (vis_box[:, 1] > y0) & (vis_box[:, 2] < x1)
                 & (vis_box[:, 3] > x0))
        meets[i] = False
        js = np.flatnonzero(meets)
        if not len(js):
            continue
        index = torch.as_tensor(js, device=visible.device) if is_torch else js
        hits = (visible[index, y0:y1, x0:x1] & occluded).reshape(len(js), -1)
        overlap[i, js] = _count(hits)
    return overlap, area


def _numpy_on_cpu(masks: ArrayLike) -> ArrayLike:
    """CPU tensors as numpy arrays (no copy): numpy's bool reductions are many times faster
    than torch's on the CPU; tensors on an accelerator stay there."""
    if isinstance(masks, torch.Tensor) and masks.device.type == 'cpu':
        return masks.numpy()
    return masks


def _count(masks: ArrayLike) -> np.ndarray:
    """``(N,)`` int64 numbers of true pixels of ``(N, P)`` bool masks (no integer copy)."""
    if isinstance(masks, torch.Tensor):
        return torch.count_nonzero(masks, dim=1).cpu().numpy().astype(np.int64)
    return np.count_nonzero(masks, axis=1).astype(np.int64)


def rle_occlusion_overlaps(visible: Sequence[dict], invisible: Sequence[dict]) -> np.ndarray:
    """:func:`occlusion_overlaps` for compressed COCO RLEs of one image (pycocotools' C code).

    The intersection is recovered exactly from pycocotools' IoU and the two areas
    (``I = IoU * (A + B) / (1 + IoU)``, rounded; exact for masks far beyond image sizes).
    """
    n = len(visible)
    if n == 0:
        return np.zeros((0, 0), np.int64)

    vis, inv = bytes_rles(visible), bytes_rles(invisible)
    iou = np.asarray(maskUtils.iou(inv, vis, [0] * n), dtype=np.float64).reshape(n, n)
    total = maskUtils.area(inv).astype(np.float64)[:, None] + \
        maskUtils.area(vis).astype(np.float64)[None, :]
    overlap = np.rint(iou * total / (1.0 + iou)).astype(np.int64)
    np.fill_diagonal(overlap, 0)
    return overlap


def _find_cycle(edges: np.ndarray) -> List[tuple]:
    """Edges ``(i, j)`` of one cycle of the graph ``i -> j`` where ``edges[i, j]``, or []."""
    n = len(edges)
    state = np.zeros(n, np.int8)  # 0 new, 1 on the stack, 2 done
    for root in range(n):
        if state[root]:
            continue
        stack = [(root, iter(np.flatnonzero(edges[root]).tolist()))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state[child] == 1:  # back edge: the cycle is path[child:] + child
                    cycle_nodes = path[path.index(child):] + [child]
                    return list(zip(cycle_nodes[:-1], cycle_nodes[1:]))
                if state[child] == 0:
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(np.flatnonzero(edges[child]).tolist())))
                    break
            else:
                state[node] = 2
                path.pop()
                stack.pop()
    return []


def depth_from_occluders(occluders: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """Depth of each instance (see the module docstring), cycles broken at the weakest edge."""
    edges = np.array(occluders, dtype=bool, copy=True)
    while True:
        cycle = _find_cycle(edges)
        if not cycle:
            break
        weakest = min(cycle, key=lambda e: (overlap[e], e))
        edges[weakest] = False
    n = len(edges)
    depth = np.full(n, -1, np.int64)
    for start in range(n):  # iterative post-order over the now acyclic graph
        stack = [start]
        while stack:
            node = stack[-1]
            if depth[node] >= 0:
                stack.pop()
                continue
            pending = [j for j in np.flatnonzero(edges[node]) if depth[j] < 0]
            if pending:
                stack.extend(pending)
                continue
            front = depth[np.flatnonzero(edges[node])]
            depth[node] = 1 + int(front.max()) if len(front) else 0
            stack.pop()
    return depth


def occluders_from_overlaps(overlap: np.ndarray, invisible_area: np.ndarray,
                            min_pixels: int = MIN_PIXELS,
                            min_fraction: float = MIN_FRACTION) -> np.ndarray:
    """The edges of the rule, ``(N, N)`` bool ``[i, j]``: j hides i (module docstring).

    An edge depends only on its two instances (their overlaps both ways and the occluded one's
    invisible area), never on the other instances of the image.

    Args:
        overlap (np.ndarray): ``(N, N)`` pixel counts ``|invisible_i AND visible_j|``.
        invisible_area (np.ndarray): ``(N,)`` pixel counts ``|invisible_i|``.
        min_pixels (int): Smallest overlap, in pixels, that counts. Defaults to 4.
        min_fraction (float): Smallest overlap, as a fraction of the occluded instance's
            invisible area, that counts. Defaults to 0.05.
    """
    overlap = np.asarray(overlap, dtype=np.int64).copy()
    n = len(overlap)
    np.fill_diagonal(overlap, 0)
    area = np.asarray(invisible_area, dtype=np.float64).reshape(n, 1)
    passes = (overlap >= min_pixels) & (overlap >= min_fraction * area) & (overlap > 0)
    mutual = passes & passes.T
    return passes & ~(mutual & (overlap <= overlap.T))


def rle_occluders(visible: Sequence[dict], invisible: Sequence[dict],
                  min_pixels: int = MIN_PIXELS, min_fraction: float = MIN_FRACTION) -> np.ndarray:
    """:func:`occluders_from_overlaps` of one image's instances given as compressed RLEs
    (converters' ground truth, results files' detections): ``(N, N)`` bool, ``[i, j]``: j hides
    i."""
    if not len(visible):
        return np.zeros((0, 0), bool)
    return occluders_from_overlaps(rle_occlusion_overlaps(visible, invisible),
                                   rle_area(invisible), min_pixels, min_fraction)


def occlusion_graph_from_overlaps(overlap: np.ndarray, invisible_area: np.ndarray,
                                  min_pixels: int = MIN_PIXELS,
                                  min_fraction: float = MIN_FRACTION) -> OcclusionGraph:
    """The rule of this module on a precomputed overlap matrix (numpy in, numpy out): the edges
    of :func:`occluders_from_overlaps` (same arguments) and the depth of each instance."""
    overlap = np.asarray(overlap, dtype=np.int64).copy()
    np.fill_diagonal(overlap, 0)
    occluders = occluders_from_overlaps(overlap, invisible_area, min_pixels, min_fraction)
    return OcclusionGraph(occluders, depth_from_occluders(occluders, overlap), overlap)


def occlusion_graph(amodal: ArrayLike, visible: ArrayLike,
                    invisible: Union[ArrayLike, None] = None,
                    min_pixels: int = MIN_PIXELS,
                    min_fraction: float = MIN_FRACTION,
                    windows: Optional[np.ndarray] = None) -> OcclusionGraph:
    """Occlusion relations between the instances of one image (module docstring: the rule).

    Args:
        amodal: ``(N, H, W)`` binary amodal masks (numpy or torch), or a list of N compressed
            RLEs (as the inferencer keeps the masks of large images).
        visible: ``(N, H, W)`` binary visible masks (RLEs with RLE amodal masks).
        invisible: ``(N, H, W)`` binary invisible masks. Defaults to amodal AND NOT visible.
        min_pixels (int): Smallest overlap in pixels that counts. Defaults to 4.
        min_fraction (float): Smallest overlap as a fraction of the occluded instance's
            invisible area. Defaults to 0.05.
        windows (np.ndarray, optional): ``(N, 4)`` int ``[y0, y1, x0, x1)`` of each instance,
            outside which its masks are empty (:func:`occlusion_overlaps`); only looked at for
            mask arrays. Defaults to None (whole image).

    Returns:
        OcclusionGraph: numpy arrays, or torch tensors on the masks' device for torch input.
    """
    if isinstance(amodal, (list, tuple)):  # compressed RLEs: the same rule on the RLEs
        invisible = [rle_and_not(a, v) for a, v in zip(amodal, visible)] \
            if invisible is None else invisible
        return occlusion_graph_from_overlaps(rle_occlusion_overlaps(visible, invisible),
                                             rle_area(invisible), min_pixels, min_fraction)
    is_torch = isinstance(amodal, torch.Tensor)
    device = amodal.device if is_torch else None
    amodal, visible = _numpy_on_cpu(amodal), _numpy_on_cpu(visible)
    invisible = None if invisible is None else _numpy_on_cpu(invisible)
    on_device = isinstance(amodal, torch.Tensor)
    as_bool = (lambda m: m.bool()) if on_device else (lambda m: np.asarray(m, bool))
    visible = as_bool(visible)
    invisible = as_bool(amodal) & ~visible if invisible is None else as_bool(invisible)
    overlap, area = _overlaps_and_areas(visible, invisible, windows)
    graph = occlusion_graph_from_overlaps(overlap, area, min_pixels, min_fraction)
    if is_torch:
        return OcclusionGraph(torch.from_numpy(graph.occluders).to(device),
                              torch.from_numpy(graph.depth).to(device),
                              torch.from_numpy(graph.overlap).to(device))
    return graph


def occluder_ids(ann_ids: Sequence[int], occluders: np.ndarray) -> List[List[int]]:
    """Canonical ``occluder_ids`` per instance: the ids of the instances that hide part of it."""
    occluders = np.asarray(occluders, bool)
    return [[int(ann_ids[j]) for j in np.flatnonzero(occluders[i])] for i in range(len(ann_ids))]
