import copy
from unittest import TestCase

import numpy as np
import torch
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmdet.models.task_modules.assigners import AssignResult
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures.mask import BitmapMasks

import mmorcnn  # noqa: F401
from mmorcnn.analysis.profile_orcnn import paste_each_head
from mmorcnn.models import AmodalMaskHead, OcclusionMaskHead
from mmorcnn.models.roi_heads.mask_heads import paste_masks_of_heads

TRAIN_CFG = ConfigDict(mask_size=28)
TEST_CFG = ConfigDict(mask_thr_binary=0.5)


def _gt_and_sampling(size: int = 32):
    """One image whose single GT has different amodal, visible and invisible masks."""
    amodal = np.zeros((1, size, size), np.uint8)
    amodal[0, 4:28, 4:28] = 1
    visible = amodal.copy()
    visible[0, 4:28, 16:28] = 0
    gt = InstanceData(
        bboxes=torch.tensor([[4., 4., 28., 28.]]),
        labels=torch.tensor([1]),
        masks=BitmapMasks(amodal, size, size),
        visible_masks=BitmapMasks(visible, size, size),
        invisible_masks=BitmapMasks(amodal & (1 - visible), size, size))
    sampling = SamplingResult(
        pos_inds=torch.tensor([0]),
        neg_inds=torch.tensor([1]),
        priors=torch.tensor([[4., 4., 28., 28.], [0., 0., 8., 8.]]),
        gt_bboxes=gt.bboxes,
        assign_result=AssignResult(num_gts=1, gt_inds=torch.tensor([1, 0]),
                                   max_overlaps=torch.tensor([1., 0.]),
                                   labels=torch.tensor([1, -1])),
        gt_flags=torch.tensor([0, 0], dtype=torch.uint8))
    return gt, sampling


class TestAmodalMaskHead(TestCase):

    def _head(self, **kwargs) -> AmodalMaskHead:
        return MODELS.build(dict(type='AmodalMaskHead', num_convs=1, in_channels=4,
                                 conv_out_channels=4, num_classes=3, **kwargs))

    def test_mask_type_names_gt_field_loss_and_result_field(self):
        for mask_type, field in (('amodal', 'masks'), ('visible', 'visible_masks')):
            head = self._head(mask_type=mask_type)
            self.assertEqual(head.mask_field, field)
            self.assertEqual(head.loss_name, f'loss_{mask_type}_mask')

    def test_unknown_mask_type_is_refused(self):
        with self.assertRaises(ValueError):
            self._head(mask_type='modal')

    def test_visible_head_learns_from_visible_masks(self):
        gt, sampling = _gt_and_sampling()
        head = self._head(mask_type='visible')
        targets = head.get_targets([sampling], [gt], TRAIN_CFG)
        # the right half of the amodal box is hidden: the visible target is empty there
        self.assertGreater(targets[0, :, :12].min().item(), 0.5)
        self.assertEqual(targets[0, :, 16:].max().item(), 0)
        amodal_targets = self._head(mask_type='amodal').get_targets([sampling], [gt], TRAIN_CFG)
        self.assertGreater(amodal_targets[0, :, 16:].min().item(), 0.5)

    def test_loss_is_sigmoid_bce_of_the_gt_class_against_its_field(self):
        gt, sampling = _gt_and_sampling()
        head = self._head(mask_type='visible')
        preds = torch.randn(1, 3, 28, 28)
        loss = head.loss_and_target(preds, [sampling], [gt], TRAIN_CFG)['loss_mask']
        self.assertEqual(list(loss), ['loss_visible_mask'])
        target = head.get_targets([sampling], [gt], TRAIN_CFG)
        expected = torch.nn.functional.binary_cross_entropy_with_logits(preds[:, 1], target)
        torch.testing.assert_close(loss['loss_visible_mask'].squeeze(), expected)

    def test_switched_off_loss_gives_no_loss_key(self):
        gt, sampling = _gt_and_sampling()
        head = self._head(mask_type='visible', loss_mask=None)
        self.assertFalse(head.with_loss)
        out = head.loss_and_target(torch.randn(1, 3, 28, 28), [sampling], [gt], TRAIN_CFG)
        self.assertEqual(out['loss_mask'], {})

    def test_visible_prediction_leaves_boxes_and_amodal_masks_untouched(self):
        head = self._head(mask_type='visible')
        bboxes = torch.tensor([[4., 4., 20., 30.]])
        amodal = torch.zeros(1, 20, 30, dtype=torch.bool)
        results = InstanceData(bboxes=bboxes.clone(), labels=torch.tensor([2]), masks=amodal)
        meta = dict(ori_shape=(20, 30), scale_factor=(2.0, 2.0))
        head.predict_by_feat((torch.full((1, 3, 28, 28), 5.),), [results], [meta], TEST_CFG,
                             rescale=True)
        torch.testing.assert_close(results.bboxes, bboxes)
        self.assertIs(results.masks, amodal)
        self.assertEqual(results.visible_masks.shape, (1, 20, 30))
        # the box, rescaled to the original image, is (2, 2, 10, 15)
        self.assertTrue(results.visible_masks[0, 2:15, 2:10].all())
        self.assertFalse(results.visible_masks[0, 16:].any())


class TestOcclusionMaskHead(TestCase):

    def test_has_no_parameters(self):
        head = MODELS.build(dict(type='OcclusionMaskHead', num_classes=5))
        self.assertEqual(list(head.parameters()), [])
        self.assertEqual(head.mask_field, 'invisible_masks')
        self.assertEqual(head.loss_name, 'loss_invisible_mask')

    def test_occlusion_logits_are_amodal_minus_relu_of_visible(self):
        head = OcclusionMaskHead()
        amodal = torch.tensor([[[[3.0, 3.0, -2.0, -2.0]]]])
        visible = torch.tensor([[[[5.0, -4.0, 1.0, -4.0]]]])
        occlusion = head(amodal, visible)
        torch.testing.assert_close(occlusion, torch.tensor([[[[-2.0, 3.0, -3.0, -2.0]]]]))

    def test_negative_visible_logits_do_not_enlarge_the_occlusion(self):
        head = OcclusionMaskHead()
        amodal = torch.randn(2, 3, 28, 28)
        occlusion = head(amodal, -torch.rand(2, 3, 28, 28) * 10)
        torch.testing.assert_close(occlusion, amodal)
        # where neither mask is predicted, no occlusion is predicted
        amodal_off = -torch.rand(2, 3, 28, 28)
        self.assertTrue((head(amodal_off, -torch.rand(2, 3, 28, 28)) < 0).all())

    def test_loss_learns_from_invisible_masks(self):
        gt, sampling = _gt_and_sampling()
        head = OcclusionMaskHead(num_classes=3)
        target = head.get_targets([sampling], [gt], TRAIN_CFG)
        self.assertEqual(target[0, :, :12].max().item(), 0)
        self.assertGreater(target[0, :, 16:].min().item(), 0.5)
        loss = head.loss_and_target(torch.randn(1, 3, 28, 28), [sampling], [gt], TRAIN_CFG)
        self.assertEqual(list(loss['loss_mask']), ['loss_invisible_mask'])

    def test_switched_off_loss_still_predicts(self):
        head = OcclusionMaskHead(num_classes=3, loss_mask=None)
        self.assertFalse(head.with_loss)
        results = InstanceData(bboxes=torch.tensor([[0., 0., 10., 10.]]), labels=torch.tensor([0]))
        head.predict_by_feat((torch.full((1, 3, 28, 28), 5.),), [results],
                             [dict(ori_shape=(12, 12), scale_factor=(1., 1.))], TEST_CFG)
        self.assertTrue(results.invisible_masks[0, :10, :10].all())


def random_detections(gen: torch.Generator, num: int, height: int, width: int) -> InstanceData:
    """Boxes anywhere, partly outside the image, tiny, and of zero width or height."""
    xy = (torch.rand(num, 2, generator=gen) * 1.1 - 0.2) * torch.tensor([width, height])
    wh = torch.rand(num, 2, generator=gen) * torch.tensor([width, height]) * 0.6
    wh[::5, 0] = 0  # degenerate boxes: mmdet's paste maps their inf coordinates to 0
    wh[1::7] = torch.rand(len(wh[1::7]), 2, generator=gen)
    # (mmdet's paste needs every box to reach into the image, as detections do)
    return InstanceData(bboxes=torch.cat([xy, torch.clamp(xy + wh, min=1)], 1),
                        labels=torch.randint(0, 3, (num, ), generator=gen))


class TestPasteMasksOfHeads(TestCase):
    """Pasting every kind in one pass gives bit for bit the masks of one head at a time."""

    def _heads(self, visible_agnostic: bool):
        amodal = AmodalMaskHead(mask_type='amodal', num_convs=0, in_channels=4, num_classes=3)
        visible = AmodalMaskHead(mask_type='visible', num_convs=0, in_channels=4, num_classes=3,
                                 class_agnostic=visible_agnostic)
        return [amodal, visible, OcclusionMaskHead(num_classes=3)]

    def test_equals_mmdet_paste_of_each_head(self):
        gen = torch.Generator().manual_seed(0)
        cases = [(rescale, threshold, agnostic) for rescale in (True, False)
                 for threshold in (0.5, 0.3, -1) for agnostic in (False, True)]
        for case, (rescale, threshold, agnostic) in enumerate(cases):
            heads = self._heads(agnostic)
            cfg = ConfigDict(mask_thr_binary=threshold)
            metas = [dict(ori_shape=(37, 53), scale_factor=(1.0, 1.0)),
                     dict(ori_shape=(40, 31), scale_factor=(1.7, 0.6)),
                     dict(ori_shape=(25, 60), scale_factor=(2.0, 2.0))]
            nums = [17, 0, 9] if case % 2 else [6, 11, 1]
            # boxes in the network input, i.e. the original image times the scale factor
            detections = [random_detections(gen, n, m['ori_shape'][0] * m['scale_factor'][1],
                                            m['ori_shape'][1] * m['scale_factor'][0])
                          for n, m in zip(nums, metas)]
            preds = [tuple(torch.randn(n, 1 if head.class_agnostic else 3, 28, 28,
                                       generator=gen) * 4 for n in nums) for head in heads]
            batched = paste_masks_of_heads(heads, preds, copy.deepcopy(detections),
                                           metas, cfg, rescale)
            reference = paste_each_head(heads, preds,
                                                 copy.deepcopy(detections),
                                                 metas, cfg, rescale)
            for new, old in zip(batched, reference):
                self.assertTrue(torch.equal(new.bboxes, old.bboxes), case)
                for field in ('masks', 'visible_masks', 'invisible_masks'):
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
