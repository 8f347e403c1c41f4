"""Overlays of amodal instance segmentation in the style of the paper's Fig. 1, 5 and 6."""
import math
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
import torch
from mmdet.registry import VISUALIZERS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks, PolygonMasks, bitmap_to_polygon
from mmdet.visualization import DetLocalVisualizer, get_palette
from mmengine.dist import master_only
from mmengine.structures import InstanceData
from mmengine.visualization import Visualizer

from mmorcnn.structures.mask_kinds import MASK_KINDS
from mmorcnn.structures.mask_utils import rle_to_mask
from mmorcnn.structures.occlusion_order import occlusion_graph

#: Image side (square root of height x width, in pixels) at which the occlusion arrows and the
#: depth tags have their base size; they scale with the side within ``ARROW_SCALE_RANGE``.
ARROW_BASE_SIDE = 400
ARROW_SCALE_RANGE = (0.5, 1.5)
#: Base sizes of the arrows (line width, head size, gap to the anchors) and depth tags (font).
ARROW_LINE_WIDTH, ARROW_HEAD_SIZE, ARROW_GAP, DEPTH_FONT_SIZE = 1.5, 12, 6, 11
#: A label's box estimated from its font size: line height (matplotlib's line spacing with the
#: box padding) and mean character width, both in font sizes, plus a margin in pixels.
LABEL_LINE_HEIGHT, LABEL_CHAR_WIDTH, LABEL_MARGIN = 1.35, 0.6, 2
#: Luma (ITU-R BT.601 weights, 0-255) below which a label's colour gets white text, else black.
LUMA_WEIGHTS, DARK_LUMA = (0.299, 0.587, 0.114), 150
#: Height in pixels of the caption strip above each panel of a composed image, and the caption's
#: offset from the panel's left edge and from the strip's bottom.
CAPTION_STRIP, CAPTION_X, CAPTION_BASELINE = 22, 4, 7

#: Class colours (RGB) when neither the dataset nor the visualizer names a palette: matplotlib's
#: tab10 then the dark half of tab20b, cycled for more classes. Fixed, so that a class keeps its
#: colour in every overlay, the ground truth and the prediction.
DEFAULT_PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                   (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
                   (188, 189, 34), (23, 190, 207), (57, 59, 121), (99, 121, 57),
                   (140, 109, 49), (132, 60, 57), (123, 65, 115)]
#: Instance fields that are ``(N, H, W)`` masks of the image.
_MASK_FIELDS = tuple(kind.field for kind in MASK_KINDS)


def _as_bool_array(masks) -> np.ndarray:
    """``(N, H, W)`` bool array of masks given as tensor, array, BitmapMasks or PolygonMasks."""
    if isinstance(masks, torch.Tensor):
        masks = masks.detach().cpu().numpy()
    elif isinstance(masks, (BitmapMasks, PolygonMasks)):
        masks = masks.to_ndarray()
    return np.asarray(masks).astype(bool)


def _boxes_array(bboxes) -> np.ndarray:
    """``(N, 4)`` float array of x1, y1, x2, y2 boxes given as tensor, array or mmdet boxes."""
    bboxes = getattr(bboxes, 'tensor', bboxes)
    if isinstance(bboxes, torch.Tensor):
        bboxes = bboxes.detach().cpu().numpy()
    return np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)


def invisible_masks_of(instances: InstanceData) -> Optional[np.ndarray]:
    """The instances' invisible (occluded) masks as an ``(N, H, W)`` bool array.

    ``invisible_masks`` when present; else amodal AND NOT visible when ``visible_masks`` are
    present; else None (a model that predicts only amodal masks, e.g. AmodalMRCNN).
    """
    if 'invisible_masks' in instances:
        return _as_bool_array(instances.invisible_masks)
    if 'masks' in instances and 'visible_masks' in instances:
        return _as_bool_array(instances.masks) & ~_as_bool_array(instances.visible_masks)
    return None


def _anchor(mask: np.ndarray) -> Tuple[float, float]:
    """``(x, y)`` of the pixel of a non-empty mask farthest from its border (a label spot that
    lies inside the mask even for non-convex shapes)."""
    padded = np.pad(mask.astype(np.uint8), 1)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return float(x), float(y)


def upscale_masks(masks, scale: int) -> np.ndarray:
    """``(N, H, W)`` masks at ``scale`` times the size, bilinear and thresholded at 0.5 (smooth
    outlines rather than ``scale``-pixel steps)."""
    masks = _as_bool_array(masks)
    n, h, w = masks.shape
    out = np.zeros((n, h * scale, w * scale), bool)
    for start in range(0, n, 256):  # cv2.resize takes at most 512 channels
        part = masks[start:start + 256].transpose(1, 2, 0).astype(np.float32)
        resized = cv2.resize(part, (w * scale, h * scale), interpolation=cv2.INTER_LINEAR)
        out[start:start + 256] = resized.reshape(h * scale, w * scale, -1).transpose(2, 0, 1) >= .5
    return out


def is_rle_list(masks) -> bool:
    """Whether ``masks`` are a list of COCO RLEs (what the inferencer keeps for large images)."""
    return isinstance(masks, (list, tuple)) and all(isinstance(m, dict) for m in masks)


def masks_at_size(masks, height: int, width: int) -> np.ndarray:
    """``(N, height, width)`` bool: masks (RLEs, tensor, array) decoded and resized one at a
    time (area interpolation, thresholded at 0.5), so that only one full-size mask exists at a
    time however many there are."""
    out = np.zeros((len(masks), height, width), bool)
    for i, mask in enumerate(masks):
        mask = rle_to_mask(mask) if isinstance(mask, dict) else _as_bool_array(mask[None])[0]
        if mask.shape != (height, width):
            mask = cv2.resize(mask.astype(np.uint8) * 255, (width, height),
                              interpolation=cv2.INTER_AREA) >= 128
        out[i] = mask
    return out


def resize_instances(instances: InstanceData, scale: float, height: int,
                     width: int) -> InstanceData:
    """The instances drawn on the image resized by ``scale`` to ``height x width``: boxes
    multiplied, masks (also RLE lists) at that size; everything else as it is."""
    out = InstanceData(metainfo=instances.metainfo)
    for key, value in instances.items():
        if key in _MASK_FIELDS:
            value = masks_at_size(value, height, width)
        elif key == 'bboxes':
            value = torch.from_numpy(_boxes_array(value) * scale)
        out[key] = value
    return out


def upscale_instances(instances: InstanceData, scale: int) -> InstanceData:
    """The instances drawn on an image ``scale`` times larger: boxes multiplied, masks resized;
    everything else as it is."""
    out = InstanceData(metainfo=instances.metainfo)
    for key, value in instances.items():
        if key in _MASK_FIELDS:
            value = upscale_masks(value, scale)
        elif key == 'bboxes':
            value = torch.from_numpy(_boxes_array(value) * scale)
        out[key] = value
    return out


def select_instances(instances: InstanceData, score_thr: float) -> InstanceData:
    """The instances with ``score > score_thr`` (all of them when they have no scores).

    The threshold is what removes duplicates from an overlay: a detector's extra boxes on one
    object score well below the box it keeps (mmdet's NMS removes the rest by box IoU only).
    """
    if 'scores' not in instances:
        return instances
    scores = instances.scores
    keep = (scores > score_thr) if isinstance(scores, torch.Tensor) else \
        torch.from_numpy(np.asarray(scores) > score_thr)
    return instances[keep]


def unused_visualizer_name(name: str) -> str:
    """``name``, or ``name-1``, ``name-2``, ... the first that no visualizer of the process holds.

    Visualizers are mmengine ``ManagerMixin`` instances: building one from a config under a name
    already taken (every config names it ``'visualizer'``) returns the earlier instance, with the
    storage backends and ``save_dir`` of the run that made it and the earlier settings, and
    mmengine warns. A second run or browse in the same process gets a visualizer of its own
    under the name this returns.
    """
    candidate, n = name, 0
    while Visualizer.check_instance_created(candidate):
        n += 1
        candidate = f'{name}-{n}'
    return candidate


@VISUALIZERS.register_module()
class AmodalDetLocalVisualizer(DetLocalVisualizer):
    """Overlays of amodal instances as in the paper's Fig. 1: amodal masks in class colours,
    their invisible (occluded) part highlighted in a light colour, the ground truth next to the
    prediction.

    Drawing one set of instances (:meth:`_draw_instances`) is a sequence of small steps, each a
    method a subclass can override or extend: :meth:`draw_amodal_masks` (class colours, white
    outlines), :meth:`draw_invisible_masks` (the pixels of each instance's invisible mask
    blended towards ``invisible_color`` and hatched: "Predicted invisible masks are indicated by
    a white overlap", paper Fig. 5), :meth:`draw_instance_boxes` and :meth:`draw_instance_labels`
    (small labels just outside the box, above it or else below, so that they hide no mask).
    Instances without invisible masks (AmodalMRCNN) get no highlight; with ``visible_masks`` but
    no ``invisible_masks`` the highlight is amodal AND NOT visible.

    Occlusion order: for instances with visible masks, :meth:`draw_occlusion_order` writes each
    instance's depth (``d0``: nothing hides it; ``d1``: hidden by a ``d0`` instance, ...) on the
    middle of its visible part (``draw_depth``) and draws an arrow from each occluder to each
    instance it hides (``draw_occlusion_arrows``). Both follow the one rule of
    :func:`~mmorcnn.structures.occlusion_graph` among the drawn instances (the predictions above
    ``pred_score_thr``, or the ground truth).

    :meth:`add_datasample` first drops predictions with ``score <= pred_score_thr``, upscales
    images smaller than ``min_size`` (and their instances) by an integer factor, then draws the
    ground truth (left) and the prediction (right) with a caption above each. Class colours come
    from ``dataset_meta['palette']`` when the dataset has one, else :data:`DEFAULT_PALETTE`.

    Args:
        name (str): Name of the instance. Defaults to 'visualizer'.
        invisible_color (tuple[int]): RGB colour the invisible pixels are blended towards.
            Defaults to white, (255, 255, 255).
        invisible_alpha (float): Weight of ``invisible_color`` in the blend. Defaults to 0.45.
        hatch_period (int): Distance in pixels (of the drawn, upscaled image) between the
            diagonal stripes drawn over invisible pixels; 0 draws none. Defaults to 6.
        hatch_alpha (float): Weight of ``invisible_color`` on the stripes. Defaults to 0.8.
        min_size (int): Images whose longer side is below this are upscaled by the smallest
            integer factor that reaches it before drawing (a 192 px image is drawn at 768 px);
            0 draws every image at its size. Defaults to 640.
        max_size (int): Images whose longer side is above this are drawn scaled down to it,
            their masks resized one at a time (a 6000 px image with 50 instances would
            otherwise need every full-size mask at once); 0 never scales down. Defaults to 2048.
        font_size (int): Font size of the labels, in points. Defaults to 8.
        draw_depth (bool): Write each instance's occlusion depth on it. Defaults to True.
        draw_occlusion_arrows (bool): Draw an arrow from each occluder to each instance it
            hides. Defaults to False.
        arrow_color (tuple[int]): RGB colour of the arrows. Defaults to yellow, (255, 230, 0).
        **kwargs: The other arguments of mmdet's ``DetLocalVisualizer`` (``image``,
            ``vis_backends``, ``save_dir``, ``bbox_color``, ``text_color``, ``mask_color``);
            ``line_width`` (of the boxes) defaults to 1.5 and ``alpha`` (of the masks) to 0.55.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 invisible_color: Tuple[int, int, int] = (255, 255, 255),
                 invisible_alpha: float = 0.45,
                 hatch_period: int = 6,
                 hatch_alpha: float = 0.8,
                 min_size: int = 640,
                 max_size: int = 2048,
                 font_size: int = 8,
                 draw_depth: bool = True,
                 draw_occlusion_arrows: bool = False,
                 arrow_color: Tuple[int, int, int] = (255, 230, 0),
                 **kwargs) -> None:
        kwargs.setdefault('line_width', 1.5)
        kwargs.setdefault('alpha', 0.55)
        super().__init__(name=name, **kwargs)  # mmengine's instance manager needs `name` here
        self.invisible_color = tuple(int(c) for c in invisible_color)
        self.invisible_alpha = invisible_alpha
        self.hatch_period = hatch_period
        self.hatch_alpha = hatch_alpha
        self.min_size = min_size
        self.max_size = max_size
        self.font_size = font_size
        self.draw_depth = draw_depth
        self.draw_occlusion_arrows = draw_occlusion_arrows
        self.arrow_color = tuple(int(c) for c in arrow_color)

    # ---- one set of instances ----

    def _draw_instances(self, image: np.ndarray, instances: InstanceData,
                        classes: Optional[Sequence[str]],
                        palette: Optional[Union[List[tuple], str]]) -> np.ndarray:
        """Draw ``instances`` on ``image`` (RGB): masks, invisible parts, boxes, labels."""
        self.set_image(image)
        if len(instances) == 0:
            return self.get_image()
        labels = np.asarray(instances.labels.cpu() if isinstance(instances.labels, torch.Tensor)
                            else instances.labels, dtype=np.int64)
        colors = self.instance_colors(labels, palette)
        if 'masks' in instances:
            self.draw_amodal_masks(_as_bool_array(instances.masks), colors)
            invisible = invisible_masks_of(instances)
            if invisible is not None and invisible.any():
                self.draw_invisible_masks(invisible)
            if (self.draw_depth or self.draw_occlusion_arrows) and 'visible_masks' in instances:
                self.draw_occlusion_order(_as_bool_array(instances.masks),
                                          _as_bool_array(instances.visible_masks), invisible)
        boxes = _boxes_array(instances.bboxes) if 'bboxes' in instances else None
        if boxes is not None:
            self.draw_instance_boxes(boxes, colors)
        self.draw_instance_labels(self.label_texts(instances, labels, classes), boxes,
                                  _as_bool_array(instances.masks) if 'masks' in instances
                                  else None, colors)
        return self.get_image()

    def class_palette(self, palette: Optional[Union[List[tuple], str]],
                      num_classes: int) -> List[tuple]:
        """RGB colour per class: ``palette`` (a list, or a name mmdet's ``get_palette`` knows)
        when given, else :data:`DEFAULT_PALETTE` cycled."""
        if palette is None or (isinstance(palette, str) and palette == 'none'):
            return [DEFAULT_PALETTE[i % len(DEFAULT_PALETTE)] for i in range(num_classes)]
        return [tuple(int(v) for v in c) for c in get_palette(palette, num_classes)]

    def instance_colors(self, labels: np.ndarray,
                        palette: Optional[Union[List[tuple], str]]) -> List[tuple]:
        """The colour of each instance: its class colour (``mask_color`` overrides it)."""
        num_classes = int(labels.max()) + 1 if len(labels) else 1
        if self.mask_color is not None:
            palette = self.mask_color
        class_colors = self.class_palette(palette, num_classes)
        return [class_colors[label] for label in labels]

    def draw_amodal_masks(self, masks: np.ndarray,
                          colors: Sequence[tuple]) -> 'AmodalDetLocalVisualizer':
        """Fill the ``(N, H, W)`` amodal masks with their colours; outline them in white."""
        polygons = [contour for mask in masks for contour in bitmap_to_polygon(mask)[0]
                    if len(contour) >= 3]
        if polygons:
            self.draw_polygons(polygons, edge_colors='w', alpha=0.9, line_widths=0.8)
        self.draw_binary_masks(masks, colors=list(colors), alphas=self.alpha)
        return self

    def draw_invisible_masks(self, invisible: np.ndarray) -> 'AmodalDetLocalVisualizer':
        """Blend the union of the ``(N, H, W)`` invisible masks towards ``invisible_color``,
        more strongly on diagonal stripes.

        The blend goes into the topmost raster layer (the image with the masks
        ``draw_binary_masks`` made, or the image of ``set_image``) instead of a new layer, so
        that the boxes, outlines and texts above it are rendered once, unchanged, and only the
        invisible pixels differ from the drawing without them.
        """
        region = invisible.any(axis=0)
        weight = np.where(region, self.invisible_alpha, 0.)
        if self.hatch_period > 0:
            rows, cols = np.indices(region.shape)
            stripes = (rows + cols) % self.hatch_period < max(1, self.hatch_period // 3)
            weight[region & stripes] = self.hatch_alpha
        layer = self.ax_save.get_images()[-1]  # set_image always leaves one
        base = np.asarray(layer.get_array())
        if base.shape[:2] != region.shape:
            raise ValueError(f'invisible masks of size {region.shape} on an image of size '
                             f'{base.shape[:2]}')
        weight = weight[..., None]
        blended = base * (1 - weight) + np.asarray(self.invisible_color) * weight
        layer.set_data(np.round(blended).astype(np.uint8))
        return self

    def draw_occlusion_order(self, amodal: np.ndarray, visible: np.ndarray,
                             invisible: Optional[np.ndarray] = None
                             ) -> 'AmodalDetLocalVisualizer':
        """Write the depths and draw the occluder -> occluded arrows of ``(N, H, W)`` masks
        (the instances' occlusion graph by the one rule; see the class docstring)."""
        graph = occlusion_graph(amodal, visible, invisible)
        shown = np.flatnonzero(amodal.reshape(len(amodal), -1).any(1))  # empty masks: no label
        anchors = np.zeros((len(amodal), 2))
        for i in shown:
            anchors[i] = _anchor(visible[i] if visible[i].any() else amodal[i])
        low, high = ARROW_SCALE_RANGE
        scale = max(low, min(high, np.sqrt(amodal.shape[1] * amodal.shape[2]) / ARROW_BASE_SIDE))
        if self.draw_occlusion_arrows:
            color = tuple(c / 255 for c in self.arrow_color)
            for occluded, occluder in zip(*np.nonzero(graph.occluders)):  # never empty masks
                self.ax_save.annotate(
                    '', xy=tuple(anchors[occluded]), xytext=tuple(anchors[occluder]),
                    arrowprops=dict(arrowstyle='-|>', color=color, lw=ARROW_LINE_WIDTH * scale,
                                    mutation_scale=ARROW_HEAD_SIZE * scale,
                                    shrinkA=ARROW_GAP * scale, shrinkB=ARROW_GAP * scale))
        if self.draw_depth and len(shown):
            self.draw_texts([f'd{graph.depth[i]}' for i in shown], anchors[shown],
                            colors=(255, 255, 255), font_sizes=int(round(DEPTH_FONT_SIZE * scale)),
                            vertical_alignments='center', horizontal_alignments='center',
                            bboxes=[dict(facecolor='black', alpha=0.7, pad=0.6,
                                         edgecolor='none')] * len(shown))
        return self

    def draw_instance_boxes(self, boxes: np.ndarray,
                            colors: Sequence[tuple]) -> 'AmodalDetLocalVisualizer':
        """The ``(N, 4)`` amodal boxes, thin, in the instances' colours."""
        if self.bbox_color is not None:
            colors = get_palette(self.bbox_color, len(boxes))
        self.draw_bboxes(boxes, edge_colors=list(colors), alpha=0.9, line_widths=self.line_width)
        return self

    def label_texts(self, instances: InstanceData, labels: np.ndarray,
                    classes: Optional[Sequence[str]]) -> List[str]:
        """``class`` per instance, ``class 87%`` when it has a score."""
        texts = [classes[label] if classes is not None and label < len(classes) else
                 f'class {label}' for label in labels]
        if 'scores' in instances:
            scores = instances.scores
            scores = scores.cpu().numpy() if isinstance(scores, torch.Tensor) else scores
            texts = [f'{t} {100 * float(s):.0f}%' for t, s in zip(texts, scores)]
        return texts

    def draw_instance_labels(self, texts: Sequence[str], boxes: Optional[np.ndarray],
                             masks: Optional[np.ndarray],
                             colors: Sequence[tuple]) -> 'AmodalDetLocalVisualizer':
        """Each text on a box of its instance's colour, placed by :meth:`label_positions`."""
        if boxes is None:  # no boxes (e.g. a mask-only model): the masks' bounding boxes
            boxes = np.array([_mask_box(m) for m in masks]) if masks is not None else None
        if boxes is None or not len(texts):
            return self
        positions, valigns = self.label_positions(texts, boxes)
        for text, pos, valign, color in zip(texts, positions, valigns, colors):
            dark = float(np.dot(LUMA_WEIGHTS, color[:3])) < DARK_LUMA
            self.draw_texts(text, np.array(pos), font_sizes=self.font_size,
                            colors='white' if dark else 'black',
                            vertical_alignments=valign, horizontal_alignments='left',
                            bboxes=[dict(facecolor=np.array(color) / 255, alpha=0.85, pad=1,
                                         edgecolor='none')])
        return self

    def label_positions(self, texts: Sequence[str],
                        boxes: np.ndarray) -> Tuple[List[Tuple[float, float]], List[str]]:
        """Where each label goes: just above its box's top-left corner; if that leaves the image
        or covers an earlier label, just below the box; failing both, inside the box's top edge.
        Returns the anchor points and matplotlib's vertical alignment of each."""
        height, width = self.height, self.width
        font_px = self.font_size * self.dpi / 72  # points to pixels
        text_h = font_px * LABEL_LINE_HEIGHT + LABEL_MARGIN
        placed = []
        positions, valigns = [], []
        for text, (x1, y1, x2, y2) in zip(texts, boxes):
            text_w = len(text) * font_px * LABEL_CHAR_WIDTH + LABEL_MARGIN
            x = float(min(max(x1, 0), max(width - text_w, 0)))
            candidates = [(y1 - 1 - text_h, 'bottom', y1 - 1), (y2 + 1, 'top', y2 + 1),
                          (max(y1, 0) + 1, 'top', max(y1, 0) + 1)]
            chosen = None
            for top, valign, anchor in candidates:
                rect = (x, top, x + text_w, top + text_h)
                inside = top >= 0 and top + text_h <= height
                if inside and not any(_overlap(rect, other) for other in placed):
                    chosen = (rect, valign, anchor)
                    break
            if chosen is None:  # the first candidate that fits the image, overlaps or not
                for top, valign, anchor in candidates:
                    if top >= 0 and top + text_h <= height:
                        chosen = ((x, top, x + text_w, top + text_h), valign, anchor)
                        break
                else:
                    top, valign, anchor = candidates[-1]
                    chosen = ((x, top, x + text_w, top + text_h), valign, anchor)
            placed.append(chosen[0])
            positions.append((x + 1, chosen[2]))
            valigns.append(chosen[1])
        return positions, valigns

    # ---- a data sample: ground truth next to prediction ----

    def upscale_factor(self, height: int, width: int) -> int:
        """The integer factor an image is drawn at (1: not upscaled); see ``min_size``."""
        if not self.min_size or max(height, width) >= self.min_size:
            return 1
        return math.ceil(self.min_size / max(height, width, 1))

    def draw_panels(self, image: np.ndarray, data_sample: Optional[DetDataSample],
                    draw_gt: bool, draw_pred: bool,
                    pred_score_thr: float) -> List[Tuple[str, np.ndarray]]:
        """The drawn ground truth and prediction, ``[(caption, RGB image), ...]``, at the
        upscaled size; the plain (upscaled) image when there is nothing to draw."""
        scale = self.upscale_factor(*image.shape[:2])
        height, width = image.shape[:2]
        shrink = 1.0
        if self.max_size and max(height, width) > self.max_size:
            shrink = self.max_size / max(height, width)
            height, width = max(1, round(height * shrink)), max(1, round(width * shrink))
            image = mmcv.imresize(image, (width, height), interpolation='area')
        if scale > 1:
            image = mmcv.imresize(image, (image.shape[1] * scale, image.shape[0] * scale),
                                  interpolation='bicubic')
        classes = self.dataset_meta.get('classes', None)
        palette = self.dataset_meta.get('palette', None)
        panels = []
        parts = []
        if data_sample is not None:
            data_sample = data_sample.cpu()
            if draw_gt and 'gt_instances' in data_sample:
                parts.append(('ground truth', data_sample.gt_instances))
            if draw_pred and 'pred_instances' in data_sample:
                parts.append((f'prediction (score > {pred_score_thr:g})',
                              select_instances(data_sample.pred_instances, pred_score_thr)))
        for caption, instances in parts:
            if shrink < 1 or any(is_rle_list(instances.get(k)) for k in _MASK_FIELDS
                                 if k in instances):
                instances = resize_instances(instances, shrink, height, width)
            if scale > 1:
                instances = upscale_instances(instances, scale)
            panels.append((caption, self._draw_instances(image, instances, classes, palette)))
        return panels or [('', image)]

    @staticmethod
    def compose_panels(panels: Sequence[Tuple[str, np.ndarray]], gap: int = 6) -> np.ndarray:
        """One panel as it is; several side by side with ``gap`` white pixels between them and
        each one's caption in a strip above it."""
        if len(panels) == 1:
            return panels[0][1]
        strip = CAPTION_STRIP
        height = max(p.shape[0] for _, p in panels) + strip
        width = sum(p.shape[1] for _, p in panels) + gap * (len(panels) - 1)
        canvas = np.full((height, width, 3), 255, np.uint8)
        x = 0
        for caption, panel in panels:
            canvas[strip:strip + panel.shape[0], x:x + panel.shape[1]] = panel
            cv2.putText(canvas, caption, (x + CAPTION_X, strip - CAPTION_BASELINE), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                        (0, 0, 0), 1, cv2.LINE_AA)
            x += panel.shape[1] + gap
        return canvas

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[DetDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       pred_score_thr: float = 0.3,
                       step: int = 0) -> None:
        """Draw the ground truth (left) and the prediction (right) of ``data_sample`` on
        ``image`` (RGB) and show, write (``out_file``) or store it in the backends, as mmdet's
        visualizer does; afterwards :meth:`get_image` returns the whole drawing.

        Args:
            name (str): The image identifier.
            image (np.ndarray): The RGB image to draw on.
            data_sample (DetDataSample, optional): ``gt_instances`` and / or
                ``pred_instances``. Defaults to None.
            draw_gt (bool): Draw the ground truth. Defaults to True.
            draw_pred (bool): Draw the prediction. Defaults to True.
            show (bool): Show the drawing in a window. Defaults to False.
            wait_time (float): Seconds it is shown. Defaults to 0.
            out_file (str, optional): Write it to this file instead of the backends.
            pred_score_thr (float): Predictions with a score up to this are not drawn.
                Defaults to 0.3 (mmdet's; the demo tools use 0.5).
            step (int): Global step for the backends. Defaults to 0.
        """
        drawn = self.compose_panels(
            self.draw_panels(image, data_sample, draw_gt, draw_pred, pred_score_thr))
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _mask_box(mask: np.ndarray) -> Tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return (0., 0., 0., 0.)
    return (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
