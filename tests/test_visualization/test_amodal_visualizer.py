"""AmodalDetLocalVisualizer: the overlay's size, and that it highlights exactly the invisible
pixels on top of mmdet's drawing."""
import os.path as osp
import re
from unittest import TestCase

import mmcv
import numpy as np
import torch
from mmdet.registry import VISUALIZERS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmdet.visualization import DetLocalVisualizer
from mmengine.config import Config
from matplotlib.text import Annotation
from mmengine.structures import InstanceData

import mmorcnn  # noqa: F401  registers the visualizer
from mmorcnn.visualization import AmodalDetLocalVisualizer

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 64, 96


def _scene():
    """Two objects; the first is occluded in a block well inside its box, away from the box
    outline, the mask outline and the label in the box's top-left corner."""
    amodal = np.zeros((2, H, W), bool)
    amodal[0, 8:56, 8:56] = True
    amodal[1, 20:60, 60:90] = True
    visible = amodal.copy()
    visible[0, 30:48, 30:48] = False
    return amodal, visible, amodal & ~visible


def _instances(amodal, visible=None, invisible=None, with_scores=True) -> InstanceData:
    inst = InstanceData(
        masks=torch.from_numpy(amodal), labels=torch.tensor([0, 1]),
        bboxes=torch.tensor([[8., 8., 56., 56.], [60., 20., 90., 60.]]))
    if with_scores:
        inst.scores = torch.tensor([0.9, 0.8])
    if visible is not None:
        inst.visible_masks = torch.from_numpy(visible)
    if invisible is not None:
        inst.invisible_masks = torch.from_numpy(invisible)
    return inst


def _draw(visualizer, instances, image, seed=0) -> np.ndarray:
    """The prediction overlay; seeded, because mmdet jitters each instance's class colour."""
    sample = DetDataSample()
    sample.pred_instances = instances
    np.random.seed(seed)
    visualizer.add_datasample('img', image, sample, draw_gt=False, pred_score_thr=0.3)
    return visualizer.get_image()


class TestAmodalDetLocalVisualizer(TestCase):

    def setUp(self):
        self.visualizer = AmodalDetLocalVisualizer(name=f'vis_{self.id()}')
        self.visualizer.dataset_meta = dict(classes=('square', 'disc'))
        rng = np.random.default_rng(0)
        self.image = rng.integers(40, 200, (H, W, 3), dtype=np.uint8)

    def test_highlights_exactly_the_invisible_pixels(self):
        amodal, visible, invisible = _scene()
        plain = _draw(self.visualizer, _instances(amodal), self.image)
        self.visualizer.draw_depth = False  # the depth labels are tested below
        highlighted = _draw(self.visualizer, _instances(amodal, visible, invisible), self.image)
        changed = (plain != highlighted).any(axis=-1)
        np.testing.assert_array_equal(changed, invisible.any(axis=0))
        # blended towards white: brighter wherever it changed
        self.assertTrue((highlighted[changed].astype(int).sum(-1) >
                         plain[changed].astype(int).sum(-1)).all())

    def test_without_invisible_masks_draws_as_mmdet(self):
        amodal, _, _ = _scene()
        mmdet_visualizer = DetLocalVisualizer(name=f'mmdet_{self.id()}')
        mmdet_visualizer.dataset_meta = self.visualizer.dataset_meta
        np.testing.assert_array_equal(
            _draw(self.visualizer, _instances(amodal), self.image),
            _draw(mmdet_visualizer, _instances(amodal), self.image))

    def test_invisible_part_derived_from_visible_masks_when_not_predicted(self):
        amodal, visible, invisible = _scene()
        np.testing.assert_array_equal(
            _draw(self.visualizer, _instances(amodal, visible=visible), self.image),
            _draw(self.visualizer, _instances(amodal, visible, invisible), self.image))

    def test_gt_left_of_prediction_at_image_size(self):
        amodal, visible, invisible = _scene()
        sample = DetDataSample()
        sample.gt_instances = InstanceData(
            masks=BitmapMasks(amodal.astype(np.uint8), H, W),
            visible_masks=BitmapMasks(visible.astype(np.uint8), H, W),
            invisible_masks=BitmapMasks(invisible.astype(np.uint8), H, W),
            labels=torch.tensor([0, 1]),
            bboxes=torch.tensor([[8., 8., 56., 56.], [60., 20., 90., 60.]]))
        sample.pred_instances = _instances(amodal, visible, invisible)
        np.random.seed(0)
        self.visualizer.add_datasample('img', self.image, sample)
        both = self.visualizer.get_image()
        self.assertEqual(both.shape, (H, 2 * W, 3))
        gt_only = _draw_gt(self.visualizer, sample, self.image)
        np.testing.assert_array_equal(both[:, :W], gt_only)

    def test_low_scores_are_not_drawn(self):
        amodal, visible, invisible = _scene()
        instances = _instances(amodal, visible, invisible)
        instances.scores = torch.tensor([0.1, 0.1])
        np.testing.assert_array_equal(_draw(self.visualizer, instances, self.image), self.image)

    def test_writes_out_file_of_image_size(self):
        amodal, visible, invisible = _scene()
        sample = DetDataSample()
        sample.pred_instances = _instances(amodal, visible, invisible)
        out_file = osp.join(self._tmp(), 'overlay.png')
        self.visualizer.add_datasample('img', self.image, sample, draw_gt=False,
                                       out_file=out_file)
        self.assertEqual(mmcv.imread(out_file).shape, (H, W, 3))

    def test_configs_build_it_from_the_registry(self):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py'))
        visualizer = VISUALIZERS.build({**cfg.visualizer, 'name': f'cfg_{self.id()}',
                                        'vis_backends': None})
        self.assertIsInstance(visualizer, AmodalDetLocalVisualizer)

    def _tmp(self) -> str:
        import tempfile
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        return tmp.name


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
        plain = DetLocalVisualizer(name=f'mmdet_{self.id()}')
        plain.dataset_meta = dict(classes=('square', 'disc'))
        np.testing.assert_array_equal(
            _draw(self._visualizer(draw_occlusion_arrows=True), _instances(amodal), self.image),
            _draw(plain, _instances(amodal), self.image))


def _draw_gt(visualizer, sample, image) -> np.ndarray:
    np.random.seed(0)
    visualizer.add_datasample('img', image, sample, draw_pred=False)
    return visualizer.get_image()
