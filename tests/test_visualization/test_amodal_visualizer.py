"""AmodalDetLocalVisualizer: it highlights exactly the invisible pixels, upscales small images,
keeps labels off the masks, drops low-score duplicates, puts the ground truth left of the
prediction, uses fixed class colours, writes occlusion depths and arrows; the contact sheet has
one cell per image."""
import os.path as osp
import re
import tempfile
import warnings
from unittest import TestCase

import mmcv
import numpy as np
import torch
from mmdet.registry import VISUALIZERS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from matplotlib.text import Annotation
from mmengine.config import Config
from mmengine.structures import InstanceData

import mmorcnn  # noqa: F401  registers the visualizer
from mmorcnn.visualization import AmodalDetLocalVisualizer, contact_sheet, select_instances
from mmorcnn.visualization.amodal_visualizer import DEFAULT_PALETTE, upscale_masks
from mmorcnn.visualization.contact_sheet import TITLE_HEIGHT

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 64, 96
CLASSES = ('square', 'disc')


def _scene():
    """Two objects; the first is occluded in a block well inside its box, away from the box
    outline, the mask outline and the label."""
    amodal = np.zeros((2, H, W), bool)
    amodal[0, 8:56, 8:56] = True
    amodal[1, 20:60, 60:90] = True
    visible = amodal.copy()
    visible[0, 30:48, 30:48] = False
    return amodal, visible, amodal & ~visible


BOXES = [[8., 8., 56., 56.], [60., 20., 90., 60.]]


def _instances(amodal, visible=None, invisible=None, scores=(0.9, 0.8)) -> InstanceData:
    inst = InstanceData(masks=torch.from_numpy(amodal), labels=torch.tensor([0, 1]),
                        bboxes=torch.tensor(BOXES))
    if scores is not None:
        inst.scores = torch.tensor(scores)
    if visible is not None:
        inst.visible_masks = torch.from_numpy(visible)
    if invisible is not None:
        inst.invisible_masks = torch.from_numpy(invisible)
    return inst


def _pred_sample(instances) -> DetDataSample:
    sample = DetDataSample()
    sample.pred_instances = instances
    return sample


class _NoLabels(AmodalDetLocalVisualizer):
    def draw_instance_labels(self, texts, boxes, masks, colors):
        return self


class TestAmodalDetLocalVisualizer(TestCase):

    def setUp(self):
        self.visualizer = self._build(AmodalDetLocalVisualizer)
        rng = np.random.default_rng(0)
        self.image = rng.integers(40, 200, (H, W, 3), dtype=np.uint8)

    def _build(self, cls, **kwargs):
        kwargs.setdefault('draw_depth', False)  # the depth labels are tested below
        visualizer = cls(name=f'{cls.__name__}_{self.id()}_{len(kwargs)}', **kwargs)
        visualizer.dataset_meta = dict(classes=CLASSES)
        return visualizer

    def _draw(self, instances, visualizer=None) -> np.ndarray:
        """Instances drawn on the image at its size (no upscaling)."""
        visualizer = visualizer or self.visualizer
        return visualizer._draw_instances(self.image, instances, CLASSES, None).copy()

    def _overlay(self, sample, visualizer=None, **kwargs) -> np.ndarray:
        visualizer = visualizer or self.visualizer
        visualizer.add_datasample('img', self.image, sample, **kwargs)
        return visualizer.get_image().copy()

    def test_highlights_exactly_the_invisible_pixels(self):
        amodal, visible, invisible = _scene()
        plain = self._draw(_instances(amodal))
        highlighted = self._draw(_instances(amodal, visible, invisible))
        changed = (plain != highlighted).any(axis=-1)
        np.testing.assert_array_equal(changed, invisible.any(axis=0))
        # blended towards white: brighter wherever it changed
        self.assertTrue((highlighted[changed].astype(int).sum(-1) >
                         plain[changed].astype(int).sum(-1)).all())

    def test_invisible_part_derived_from_visible_masks_when_not_predicted(self):
        amodal, visible, invisible = _scene()
        np.testing.assert_array_equal(self._draw(_instances(amodal, visible=visible)),
                                      self._draw(_instances(amodal, visible, invisible)))

    def test_amodal_masks_only_get_no_highlight(self):
        amodal, _, _ = _scene()
        nothing_hidden = np.zeros_like(amodal)
        np.testing.assert_array_equal(self._draw(_instances(amodal)),
                                      self._draw(_instances(amodal, amodal, nothing_hidden)))

    def test_small_images_are_upscaled_with_their_masks(self):
        amodal, visible, invisible = _scene()
        scale = self.visualizer.upscale_factor(H, W)
        self.assertEqual(scale, 7)  # 96 px -> 672 px, the first multiple >= 640
        plain = self._overlay(_pred_sample(_instances(amodal)), draw_gt=False)
        highlighted = self._overlay(_pred_sample(_instances(amodal, visible, invisible)),
                                    draw_gt=False)
        self.assertEqual(highlighted.shape, (H * scale, W * scale, 3))
        changed = (plain != highlighted).any(axis=-1)
        np.testing.assert_array_equal(changed, upscale_masks(invisible, scale).any(axis=0))

    def test_min_size_0_draws_at_the_image_size(self):
        visualizer = self._build(AmodalDetLocalVisualizer, min_size=0)
        amodal, visible, invisible = _scene()
        drawn = self._overlay(_pred_sample(_instances(amodal, visible, invisible)), visualizer,
                              draw_gt=False)
        self.assertEqual(drawn.shape, (H, W, 3))

    def test_labels_are_drawn_off_the_masks(self):
        amodal, visible, invisible = _scene()
        sample = _pred_sample(_instances(amodal, visible, invisible))
        with_labels = self._overlay(sample, draw_gt=False)
        without = self._overlay(sample, self._build(_NoLabels), draw_gt=False)
        label_pixels = (with_labels != without).any(axis=-1)
        self.assertGreater(label_pixels.sum(), 100)  # the labels are there
        masks = upscale_masks(amodal, self.visualizer.upscale_factor(H, W)).any(axis=0)
        self.assertFalse((label_pixels & masks).any())

    def test_score_threshold_drops_low_score_duplicates(self):
        amodal, visible, invisible = _scene()
        # a duplicate of the first object (same class, same masks) with a low score
        dup = lambda a: np.concatenate([a, a[:1]])  # noqa: E731
        instances = InstanceData(
            masks=torch.from_numpy(dup(amodal)), visible_masks=torch.from_numpy(dup(visible)),
            invisible_masks=torch.from_numpy(dup(invisible)), labels=torch.tensor([0, 1, 0]),
            bboxes=torch.tensor(BOXES + BOXES[:1]), scores=torch.tensor([0.9, 0.8, 0.4]))
        self.assertEqual(len(select_instances(instances, 0.5)), 2)
        np.testing.assert_array_equal(
            self._overlay(_pred_sample(instances), draw_gt=False, pred_score_thr=0.5),
            self._overlay(_pred_sample(_instances(amodal, visible, invisible)), draw_gt=False,
                          pred_score_thr=0.5))
        # at mmdet's 0.3 it would be drawn
        self.assertFalse(np.array_equal(
            self._overlay(_pred_sample(instances), draw_gt=False, pred_score_thr=0.3),
            self._overlay(_pred_sample(_instances(amodal, visible, invisible)), draw_gt=False,
                          pred_score_thr=0.3)))

    def test_gt_left_of_prediction_each_as_drawn_alone(self):
        amodal, visible, invisible = _scene()
        sample = DetDataSample()
        sample.gt_instances = InstanceData(
            masks=BitmapMasks(amodal.astype(np.uint8), H, W),
            visible_masks=BitmapMasks(visible.astype(np.uint8), H, W),
            invisible_masks=BitmapMasks(invisible.astype(np.uint8), H, W),
            labels=torch.tensor([0, 1]), bboxes=torch.tensor(BOXES))
        sample.pred_instances = _instances(amodal, visible, invisible)
        both = self._overlay(sample)
        gt_only = self._overlay(sample, draw_pred=False)
        pred_only = self._overlay(sample, draw_gt=False)
        h, w = gt_only.shape[:2]
        strip = both.shape[0] - h
        self.assertGreater(strip, 0)  # captions above the panels
        self.assertGreater(both.shape[1], 2 * w)  # a gap between them
        np.testing.assert_array_equal(both[strip:, :w], gt_only)
        np.testing.assert_array_equal(both[strip:, -w:], pred_only)

    def test_low_scores_are_not_drawn(self):
        amodal, visible, invisible = _scene()
        visualizer = self._build(AmodalDetLocalVisualizer, min_size=0)
        drawn = self._overlay(_pred_sample(_instances(amodal, visible, invisible,
                                                      scores=(0.1, 0.1))), visualizer,
                              draw_gt=False)
        np.testing.assert_array_equal(drawn, self.image)

    def test_fixed_class_colours_without_a_palette(self):
        labels = np.array([1, 0, 1])
        np.random.seed(1)
        first = self.visualizer.instance_colors(labels, None)
        np.random.seed(2)
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            second = self._build(AmodalDetLocalVisualizer).instance_colors(labels, None)
        self.assertEqual(first, second)
        self.assertEqual(first, [DEFAULT_PALETTE[1], DEFAULT_PALETTE[0], DEFAULT_PALETTE[1]])
        # a dataset's palette wins
        self.assertEqual(self.visualizer.instance_colors(labels, [(1, 2, 3), (4, 5, 6)]),
                         [(4, 5, 6), (1, 2, 3), (4, 5, 6)])

    def test_writes_out_file_upscaled(self):
        amodal, visible, invisible = _scene()
        with tempfile.TemporaryDirectory() as tmp:
            out_file = osp.join(tmp, 'overlay.png')
            self.visualizer.add_datasample('img', self.image,
                                           _pred_sample(_instances(amodal, visible, invisible)),
                                           draw_gt=False, out_file=out_file)
            self.assertEqual(mmcv.imread(out_file).shape, (7 * H, 7 * W, 3))

    def test_configs_build_it_from_the_registry(self):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py'))
        visualizer = VISUALIZERS.build({**cfg.visualizer, 'name': f'cfg_{self.id()}',
                                        'vis_backends': None})
        self.assertIsInstance(visualizer, AmodalDetLocalVisualizer)


def _draw(visualizer, instances, image) -> np.ndarray:
    """Instances drawn on the image at its size (no upscaling)."""
    return visualizer._draw_instances(image, instances, CLASSES, None).copy()


def _stacked_scene():
    """Object 1 hides the right part of object 0."""
    amodal = np.zeros((2, H, W), bool)
    amodal[0, 8:56, 8:56] = True
    amodal[1, 20:60, 40:90] = True
    visible = amodal.copy()
    visible[0] &= ~amodal[1]
    return amodal, visible, amodal & ~visible


class TestOcclusionOrderDrawing(TestCase):

    def setUp(self):
        self.image = np.random.default_rng(0).integers(40, 200, (H, W, 3), dtype=np.uint8)

    def _visualizer(self, **kwargs) -> AmodalDetLocalVisualizer:
        visualizer = AmodalDetLocalVisualizer(name=f'vis_{self.id()}_{len(kwargs)}', **kwargs)
        visualizer.dataset_meta = dict(classes=('square', 'disc'))
        return visualizer

    def _drawn(self, visualizer, amodal, visible, invisible):
        """The depth texts and arrows that draw_occlusion_order puts on the image."""
        visualizer.set_image(self.image)
        visualizer.draw_occlusion_order(amodal, visible, invisible)
        texts = {t.get_text(): t.get_position() for t in visualizer.ax_save.texts
                 if re.fullmatch(r'd\d+', t.get_text())}
        arrows = [t for t in visualizer.ax_save.texts if isinstance(t, Annotation)]
        return texts, arrows

    def test_depth_is_written_on_the_visible_part_of_each_instance(self):
        amodal, visible, invisible = _stacked_scene()
        texts, arrows = self._drawn(self._visualizer(), amodal, visible, invisible)
        self.assertEqual(set(texts), {'d0', 'd1'})  # 1 is in front, 0 behind it
        self.assertEqual(arrows, [])  # arrows are an option
        x, y = texts['d1']
        self.assertTrue(visible[0, int(y), int(x)])
        x, y = texts['d0']
        self.assertTrue(visible[1, int(y), int(x)])
        # in the overlay, the labels change pixels around those two spots only
        instances = _instances(amodal, visible, invisible)
        with_depth = _draw(self._visualizer(), instances, self.image)
        without = _draw(self._visualizer(draw_depth=False), instances, self.image)
        ys, xs = np.nonzero((with_depth != without).any(-1))
        self.assertTrue(len(ys))
        near = np.min([np.hypot(xs - x, ys - y) for x, y in texts.values()], axis=0)
        self.assertLess(near.max(), 12)

    def test_arrows_point_from_occluder_to_occluded(self):
        amodal, visible, invisible = _stacked_scene()
        texts, arrows = self._drawn(self._visualizer(draw_occlusion_arrows=True), amodal,
                                    visible, invisible)
        self.assertEqual(len(arrows), 1)
        (x_to, y_to), (x_from, y_from) = arrows[0].xy, arrows[0].xyann
        self.assertTrue(visible[0, int(y_to), int(x_to)])  # the hidden one
        self.assertTrue(visible[1, int(y_from), int(x_from)])  # the one in front

    def test_an_empty_prediction_gets_no_label(self):
        amodal, visible, invisible = _stacked_scene()
        amodal[0] = visible[0] = invisible[0] = False
        texts, arrows = self._drawn(self._visualizer(draw_occlusion_arrows=True), amodal,
                                    visible, invisible)
        self.assertEqual(list(texts), ['d0'])
        self.assertEqual(arrows, [])

    def test_amodal_only_instances_get_no_depth(self):
        amodal, _, _ = _stacked_scene()
        np.testing.assert_array_equal(
            _draw(self._visualizer(draw_occlusion_arrows=True), _instances(amodal), self.image),
            _draw(self._visualizer(draw_depth=False), _instances(amodal), self.image))

    def test_upscaled_overlays_write_the_depths_too(self):
        amodal, visible, invisible = _stacked_scene()
        sample = _pred_sample(_instances(amodal, visible, invisible))
        drawn = {}
        for depth in (True, False):
            visualizer = self._visualizer(draw_depth=depth)
            visualizer.add_datasample('img', self.image, sample, draw_gt=False)
            drawn[depth] = visualizer.get_image()
        scale = visualizer.upscale_factor(H, W)
        self.assertEqual(drawn[True].shape, (H * scale, W * scale, 3))
        ys, xs = np.nonzero((drawn[True] != drawn[False]).any(-1))
        self.assertTrue(len(ys))
        # on the objects (their union's box), not elsewhere
        rows, cols = np.nonzero(upscale_masks(amodal, scale).any(0))
        self.assertTrue(rows.min() <= ys.min() and ys.max() <= rows.max())
        self.assertTrue(cols.min() <= xs.min() and xs.max() <= cols.max())


class TestContactSheet(TestCase):

    def test_one_cell_per_image_row_by_row(self):
        rng = np.random.default_rng(0)
        cells = [rng.integers(0, 255, (50, 120, 3), dtype=np.uint8) for _ in range(5)]
        sheet, boxes = contact_sheet(cells, [f'img{i}' for i in range(5)], ncols=2,
                                     cell_width=120, gap=10)
        self.assertEqual(len(boxes), 5)
        rows = 3
        self.assertEqual(sheet.shape, (10 + rows * (TITLE_HEIGHT + 50 + 10), 10 + 2 * 130, 3))
        for i, (x1, y1, x2, y2) in enumerate(boxes):
            np.testing.assert_array_equal(sheet[y1:y2, x1:x2], cells[i])
            self.assertEqual((x1 - 10) // 130, i % 2)  # left to right, then the next row
            self.assertEqual((y1 - 10) // (TITLE_HEIGHT + 60), i // 2)
        # the sixth slot stays empty
        x1, y1 = boxes[1][0], boxes[4][1]
        self.assertTrue((sheet[y1:y1 + 50, x1:x1 + 120] == 255).all())

    def test_cells_are_resized_to_the_cell_width(self):
        cell = np.zeros((100, 400, 3), np.uint8)
        sheet, ((x1, y1, x2, y2), ) = contact_sheet([cell], ['a'], cell_width=200)
        self.assertEqual((x2 - x1, y2 - y1), (200, 50))
        self.assertTrue((sheet[y1:y2, x1:x2] == 0).all())
