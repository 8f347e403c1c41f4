"""The paste of predicted masks into the image (:mod:`mmorcnn.models.mask_paste`): every kind in
one pass, bit for bit mmdet's paste of each head; the paste windows; the large-image mode of
``test_cfg.rcnn.max_mask_pixels`` (masks pasted in chunks and kept as RLEs) in every RoI head."""
import copy
from unittest import TestCase

import numpy as np
import torch
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask
from mmdet.registry import MODELS

import mmorcnn  # noqa: F401
from mmorcnn.models import AmodalMaskHead, OcclusionMaskHead, mask_paste
from mmorcnn.models.mask_paste import (chunk_size, paste_masks, paste_masks_of_heads,
                                       paste_windows)
from mmorcnn.models.roi_heads import mask_heads
from mmorcnn.structures.errors import SoftMaskError
from mmorcnn.structures.mask_kinds import MASK_KINDS
from mmorcnn.structures.mask_utils import masks_to_rles
from .amodal_batch import CHANNELS, NUM_CLASSES, roi_head_cfg
from .occluder_heads import build_head, predict
from .paste_reference import paste_each_head

TEST_CFG = ConfigDict(mask_thr_binary=0.5)
FIELDS = tuple(kind.field for kind in MASK_KINDS)


def random_detections(gen: torch.Generator, num: int, height: int, width: int) -> InstanceData:
    """Boxes anywhere, partly outside the image, tiny, and of zero width or height."""
    xy = (torch.rand(num, 2, generator=gen) * 1.1 - 0.2) * torch.tensor([width, height])
    wh = torch.rand(num, 2, generator=gen) * torch.tensor([width, height]) * 0.6
    wh[::5, 0] = 0  # degenerate boxes: mmdet's paste maps their inf coordinates to 0
    wh[1::7] = torch.rand(len(wh[1::7]), 2, generator=gen)
    # (mmdet's paste needs every box to reach into the image, as detections do)
    return InstanceData(bboxes=torch.cat([xy, torch.clamp(xy + wh, min=1)], 1),
                        labels=torch.randint(0, 3, (num, ), generator=gen))


def _heads(visible_agnostic: bool):
    amodal = AmodalMaskHead(mask_type='amodal', num_convs=0, in_channels=4, num_classes=3)
    visible = AmodalMaskHead(mask_type='visible', num_convs=0, in_channels=4, num_classes=3,
                             class_agnostic=visible_agnostic)
    return [amodal, visible, OcclusionMaskHead(num_classes=3)]


def _batch(gen: torch.Generator, heads, metas, nums):
    """Detections of each image (boxes in the network input, i.e. the original image times the
    scale factor) and random logits of each head for them."""
    detections = [random_detections(gen, n, m['ori_shape'][0] * m['scale_factor'][1],
                                    m['ori_shape'][1] * m['scale_factor'][0])
                  for n, m in zip(nums, metas)]
    preds = [tuple(torch.randn(n, 1 if head.class_agnostic else 3, 28, 28, generator=gen) * 4
                   for n in nums) for head in heads]
    return detections, preds


METAS = [dict(ori_shape=(37, 53), scale_factor=(1.0, 1.0)),
         dict(ori_shape=(40, 31), scale_factor=(1.7, 0.6)),
         dict(ori_shape=(25, 60), scale_factor=(2.0, 2.0))]


class TestPasteMasksOfHeads(TestCase):
    """Pasting every kind in one pass gives bit for bit the masks of one head at a time."""

    def test_equals_mmdet_paste_of_each_head(self):
        gen = torch.Generator().manual_seed(0)
        cases = [(rescale, threshold, agnostic) for rescale in (True, False)
                 for threshold in (0.5, 0.3, -1) for agnostic in (False, True)]
        for case, (rescale, threshold, agnostic) in enumerate(cases):
            heads = _heads(agnostic)
            cfg = ConfigDict(mask_thr_binary=threshold)
            nums = [17, 0, 9] if case % 2 else [6, 11, 1]
            detections, preds = _batch(gen, heads, METAS, nums)
            batched = paste_masks_of_heads(heads, preds, copy.deepcopy(detections),
                                           METAS, cfg, rescale)
            reference = paste_each_head(heads, preds, copy.deepcopy(detections), METAS, cfg,
                                        rescale)
            for new, old in zip(batched, reference):
                self.assertTrue(torch.equal(new.bboxes, old.bboxes), case)
                for field in FIELDS:
                    self.assertEqual(new[field].dtype, old[field].dtype)
                    self.assertTrue(torch.equal(new[field], old[field]), (case, field))
            self.assertTrue(any(res.masks.any() for res in batched))

    def test_masks_are_zero_outside_the_pasted_boxes(self):
        head = AmodalMaskHead(num_convs=0, in_channels=4, num_classes=3)
        results = InstanceData(bboxes=torch.tensor([[2., 3., 9., 7.]]), labels=torch.tensor([0]))
        paste_masks_of_heads([head], [(torch.full((1, 3, 28, 28), 5.), )], [results],
                             [dict(ori_shape=(12, 14), scale_factor=(1., 1.))], TEST_CFG)
        expected = torch.zeros(1, 12, 14, dtype=torch.bool)
        expected[0, 3:7, 2:9] = True
        self.assertTrue(torch.equal(results.masks, expected))

    def test_pasted_masks_are_writable_and_independent(self):
        """The lazily zeroed masks behave as any tensor: writing one kind leaves the others."""
        gen = torch.Generator().manual_seed(3)
        heads = _heads(False)
        detections, preds = _batch(gen, heads, METAS[:1], [4])
        results = paste_masks_of_heads(heads, preds, detections, METAS[:1], TEST_CFG, True)[0]
        visible = results.visible_masks.clone()
        results.masks[:] = True
        self.assertTrue(results.masks.all())
        self.assertTrue(torch.equal(results.visible_masks, visible))


class TestPasteWindows(TestCase):

    def test_paste_windows_are_the_regions_mmdet_pastes_into(self):
        rng = np.random.RandomState(0)
        h, w = 40, 50
        # boxes over the image and a little beyond its borders, as the box head's clipped
        # and rescaled boxes (mmdet cannot paste a box that lies wholly outside)
        corners = rng.uniform(-0.9, np.array([w, h]) + 0.9, size=(200, 2, 2))  # (x, y) pairs
        boxes = torch.tensor(np.concatenate([corners.min(1), corners.max(1)], 1),
                             dtype=torch.float32)
        boxes = torch.cat([boxes, torch.tensor([[0., 0., w, h], [3.5, 2.25, 3.75, 2.5]])])
        windows = paste_windows(boxes, h, w)
        for box, (y0, y1, x0, x1) in zip(boxes, windows.tolist()):
            pasted, (rows, cols) = _do_paste_mask(torch.ones(1, 1, 28, 28), box[None], h, w)
            canvas = np.zeros((h, w), bool)
            canvas[rows, cols] = True  # the pixels mmdet writes for this box
            expected = np.zeros((h, w), bool)
            expected[y0:y1, x0:x1] = True
            np.testing.assert_array_equal(canvas, expected)
            self.assertTrue(0 <= y0 <= y1 <= h and 0 <= x0 <= x1 <= w)

    def test_rle_masks_have_no_windows(self):
        results = InstanceData(bboxes=torch.tensor([[1., 1., 5., 5.]]),
                               masks=masks_to_rles(np.ones((1, 8, 8), bool)))
        self.assertIsNone(mask_paste.mask_paste_windows(results))


class TestMaxMaskPixels(TestCase):
    """``test_cfg.max_mask_pixels``: images whose detections do not fit are pasted in chunks
    and their masks kept as RLEs, the same masks bit for bit."""

    def test_chunk_sizes(self):
        assert chunk_size(6000, 6000, 2**28) == 2
        assert chunk_size(6000, 6000, 1) == 1
        self.assertEqual(chunk_size(6000, 6000, 2**28, kinds=1), 7)
        self.assertGreaterEqual(chunk_size(192, 192, 2**28), 100)

    def test_images_that_do_not_fit_get_the_rles_of_the_one_pass_masks(self):
        gen = torch.Generator().manual_seed(1)
        max_pixels = 3 * 37 * 53 * 4  # four detections of the first image at a time
        kept_as = set()
        for rescale in (True, False):
            heads = _heads(False)
            detections, preds = _batch(gen, heads, METAS, [17, 0, 3])
            whole = paste_masks_of_heads(heads, preds, copy.deepcopy(detections), METAS,
                                         TEST_CFG, rescale)
            cfg = ConfigDict(mask_thr_binary=0.5, max_mask_pixels=max_pixels)
            chunked = paste_masks_of_heads(heads, preds, copy.deepcopy(detections), METAS, cfg,
                                           rescale)
            for new, old in zip(chunked, whole):
                self.assertTrue(torch.equal(new.bboxes, old.bboxes))
                fits = len(old) <= chunk_size(*old.masks.shape[1:], max_pixels)
                kept_as.add('tensors' if fits else 'rles')
                for field in FIELDS:
                    if fits:
                        self.assertTrue(torch.equal(new[field], old[field]), field)
                    else:
                        self.assertEqual(new[field], masks_to_rles(old[field].numpy()), field)
        self.assertEqual(kept_as, {'tensors', 'rles'})

    def test_a_bad_value_is_refused_before_any_paste(self):
        heads = _heads(False)
        detections, preds = _batch(torch.Generator().manual_seed(2), heads, METAS, [3, 2, 1])
        for value in (0, -4, 2.5, '1000'):
            cfg = ConfigDict(mask_thr_binary=0.5, max_mask_pixels=value)
            with self.assertRaisesRegex(ValueError, 'max_mask_pixels must be a positive'):
                paste_masks_of_heads(heads, preds, detections, METAS, cfg)
        cfg = ConfigDict(mask_thr_binary=-1, max_mask_pixels=1000)
        with self.assertRaisesRegex(SoftMaskError, 'mask_thr_binary=-1'):
            paste_masks(
                [(head.mask_field, head.class_agnostic) for head in heads], preds, detections,
                METAS, cfg)
        self.assertFalse(any('masks' in res for res in detections))

    def _assert_honoured(self, head) -> None:
        whole = predict(head)
        head.test_cfg.max_mask_pixels = 1  # one detection at a time
        chunked = predict(head)
        for new, old in zip(chunked, whole):
            self.assertGreater(len(old), 1)
            self.assertTrue(torch.equal(new.bboxes, old.bboxes))
            for field in FIELDS:
                if field in old:
                    self.assertEqual(new[field], masks_to_rles(old[field].numpy()), field)
            for field in ('occluders', 'depth'):
                if field in old:
                    np.testing.assert_array_equal(np.asarray(new[field]), old[field].numpy())

    def test_every_roi_head_honours_it(self):
        mask_rcnn = ConfigDict(roi_head_cfg('mask-rcnn'))
        mask_rcnn.mask_head.type = 'AmodalMaskHead'  # mmdet's FCNMaskHead with this paste
        bcnet = dict(type='BCNetMaskHead', in_channels=CHANNELS, conv_out_channels=8,
                     num_classes=NUM_CLASSES)
        aisformer = dict(type='AISFormerMaskHead', in_channels=CHANNELS, conv_out_channels=16,
                         num_classes=NUM_CLASSES, feedforward_channels=32)
        for name, head in (('orcnn', MODELS.build(ConfigDict(roi_head_cfg('orcnn')))),
                           ('amodal', MODELS.build(ConfigDict(roi_head_cfg('amodal')))),
                           ('mask-rcnn', MODELS.build(mask_rcnn)),
                           ('bcnet', build_head(bcnet)), ('aisformer', build_head(aisformer))):
            with self.subTest(name):
                head.init_weights()
                self._assert_honoured(head)


class TestDeprecatedNames(TestCase):

    def test_old_names_of_mask_heads_warn_and_are_the_paste_functions(self):
        for name in ('paste_masks', 'paste_masks_of_heads', 'paste_windows',
                     'mask_paste_windows'):
            with self.assertWarnsRegex(DeprecationWarning, f'mask_heads.{name} is deprecated'):
                old = getattr(mask_heads, name)
            self.assertIs(old, getattr(mask_paste, name))
        with self.assertRaises(AttributeError):
            mask_heads.no_such_name
