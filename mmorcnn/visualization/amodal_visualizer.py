"""Overlays of amodal instance segmentation in the style of the paper's Fig. 1, 5 and 6."""
from typing import List, Optional, Tuple, Union

import cv2
import numpy as np
import torch
from mmdet.registry import VISUALIZERS
from mmdet.structures.mask import BitmapMasks, PolygonMasks
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import InstanceData

from mmorcnn.structures.occlusion_order import occlusion_graph


def _as_bool_array(masks) -> np.ndarray:
    """``(N, H, W)`` bool array of masks given as tensor, array, BitmapMasks or PolygonMasks."""
    if isinstance(masks, torch.Tensor):
        masks = masks.detach().cpu().numpy()
    elif isinstance(masks, (BitmapMasks, PolygonMasks)):
        masks = masks.to_ndarray()
    return np.asarray(masks).astype(bool)


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


@VISUALIZERS.register_module()
class AmodalDetLocalVisualizer(DetLocalVisualizer):
    """mmdet's DetLocalVisualizer for amodal instances: amodal masks coloured by class, their
    invisible (occluded) part highlighted.

    Everything mmdet's visualizer draws stays as it is (boxes, labels and scores, and the amodal
    masks, which are the instances' ``masks``, in the class colours with white outlines); on
    top, the pixels of each instance's invisible mask are blended towards ``invisible_color``
    ("Predicted invisible masks are indicated by a white overlap", paper Fig. 5) and, with
    ``hatch_period``, hatched with diagonal stripes so that the occluded part stays visible on
    light classes. Only the invisible pixels change. ``add_datasample`` shows the ground truth
    left of the prediction when it draws both, as mmdet does. Instances without invisible masks
    (AmodalMRCNN predictions) are drawn as by mmdet; instances with ``visible_masks`` but no
    ``invisible_masks`` are highlighted where the amodal mask is not visible.

    Occlusion order: for instances with visible masks, ``draw_depth`` writes each instance's
    depth (``d0``: nothing hides it; ``d1``: hidden by a ``d0`` instance, ...) on the middle of
    its visible part, and ``draw_occlusion_arrows`` draws an arrow from each occluder to each
    instance it hides. Both follow the one rule of :func:`~mmorcnn.structures.occlusion_graph`
    among the drawn instances (the predictions above ``pred_score_thr``, or the ground truth).

    Args:
        invisible_color (tuple[int]): RGB colour the invisible pixels are blended towards.
            Defaults to white, (255, 255, 255).
        invisible_alpha (float): Weight of ``invisible_color`` in the blend. Defaults to 0.45.
        hatch_period (int): Distance in pixels between the diagonal stripes drawn over invisible
            pixels; 0 draws none. Defaults to 6.
        hatch_alpha (float): Weight of ``invisible_color`` on the stripes. Defaults to 0.8.
        draw_depth (bool): Write each instance's occlusion depth on it. Defaults to True.
        draw_occlusion_arrows (bool): Draw an arrow from each occluder to each instance it
            hides. Defaults to False.
        arrow_color (tuple[int]): RGB colour of the arrows. Defaults to yellow, (255, 230, 0).
        name (str): Name of the instance. Defaults to 'visualizer'.
        **kwargs: The other arguments of mmdet's ``DetLocalVisualizer`` (``image``,
            ``vis_backends``, ``save_dir``, ``bbox_color``, ``text_color``, ``mask_color``,
            ``line_width``, ``alpha``).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 invisible_color: Tuple[int, int, int] = (255, 255, 255),
                 invisible_alpha: float = 0.45,
                 hatch_period: int = 6,
                 hatch_alpha: float = 0.8,
                 draw_depth: bool = True,
                 draw_occlusion_arrows: bool = False,
                 arrow_color: Tuple[int, int, int] = (255, 230, 0),
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)  # mmengine's instance manager needs `name` here
        self.invisible_color = tuple(int(c) for c in invisible_color)
        self.invisible_alpha = invisible_alpha
        self.hatch_period = hatch_period
        self.hatch_alpha = hatch_alpha
        self.draw_depth = draw_depth
        self.draw_occlusion_arrows = draw_occlusion_arrows
        self.arrow_color = tuple(int(c) for c in arrow_color)

    def _draw_instances(self, image: np.ndarray, instances: InstanceData,
                        classes: Optional[List[str]],
                        palette: Optional[Union[List[tuple], str]]) -> np.ndarray:
        """Draw as mmdet does, then highlight the invisible pixels of every instance."""
        super()._draw_instances(image, instances, classes, palette)
        invisible = invisible_masks_of(instances)
        if invisible is not None and invisible.any():
            self.draw_invisible_masks(invisible)
        if (self.draw_depth or self.draw_occlusion_arrows) and 'visible_masks' in instances \
                and len(instances):
            self.draw_occlusion_order(_as_bool_array(instances.masks),
                                      _as_bool_array(instances.visible_masks), invisible)
        return self.get_image()

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
        scale = max(0.5, min(1.5, np.sqrt(amodal.shape[1] * amodal.shape[2]) / 400))
        if self.draw_occlusion_arrows:
            color = tuple(c / 255 for c in self.arrow_color)
            for occluded, occluder in zip(*np.nonzero(graph.occluders)):  # never empty masks
                self.ax_save.annotate(
                    '', xy=tuple(anchors[occluded]), xytext=tuple(anchors[occluder]),
                    arrowprops=dict(arrowstyle='-|>', color=color, lw=1.5 * scale,
                                    mutation_scale=12 * scale, shrinkA=6 * scale,
                                    shrinkB=6 * scale))
        if self.draw_depth and len(shown):
            self.draw_texts([f'd{graph.depth[i]}' for i in shown], anchors[shown],
                            colors=(255, 255, 255), font_sizes=int(round(11 * scale)),
                            vertical_alignments='center', horizontal_alignments='center',
                            bboxes=[dict(facecolor='black', alpha=0.7, pad=0.6,
                                         edgecolor='none')] * len(shown))
        return self

    def draw_invisible_masks(self, invisible: np.ndarray) -> 'AmodalDetLocalVisualizer':
        """Blend the union of the ``(N, H, W)`` invisible masks towards ``invisible_color``,
        more strongly on diagonal stripes.

        The blend goes into the topmost raster layer (the image with the masks mmdet's
        ``draw_binary_masks`` made, or the image of ``set_image``) instead of a new layer, so
        that the boxes, outlines and texts above it are rendered once, unchanged, and only the
        invisible pixels differ from mmdet's drawing.
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
