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
from mmorcnn.models import AmodalMaskHead, OcclusionMaskHead
from mmorcnn.models.roi_heads.mask_heads.amodal_mask_head import losses_of_outputs

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

    def test_missing_gt_field_is_named_before_the_loss(self):
        gt, sampling = _gt_and_sampling()
        del gt.visible_masks
        head = self._head(mask_type='visible')
        with self.assertRaisesRegex(KeyError, "AmodalMaskHead.*'visible_masks'.*loss_mask=None"):
            head.loss_and_target(torch.randn(1, 3, 28, 28), [sampling], [gt], TRAIN_CFG)

    def test_targets_as_fcn_mask_head_returns_them(self):
        gt, sampling = _gt_and_sampling()
        head = self._head(mask_type='visible')
        out = head.loss_and_target(torch.randn(1, 3, 28, 28), [sampling], [gt], TRAIN_CFG)
        torch.testing.assert_close(out['mask_targets'],
                                   head.get_targets([sampling], [gt], TRAIN_CFG))
        self.assertEqual(list(head.mask_losses), ['visible'])

    def test_losses_of_outputs_is_deprecated(self):
        gt, sampling = _gt_and_sampling()
        head = self._head(mask_type='visible')
        preds = torch.randn(1, 3, 28, 28)
        with self.assertWarns(DeprecationWarning):
            old = losses_of_outputs(head, preds, [sampling], [gt], TRAIN_CFG, torch.tensor([1]))
        new = head.loss_and_target(preds, [sampling], [gt], TRAIN_CFG)
        torch.testing.assert_close(old['loss_mask'], new['loss_mask'])

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
