"""BCNet's bilayer mask head (BCNetMaskHead) in its RoI head (AmodalRoIHead)."""
import copy
from unittest import TestCase

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from mmdet.structures.mask import BitmapMasks, mask_target

import mmorcnn  # noqa: F401
from mmorcnn.models import BCNetMaskHead
from mmorcnn.models.roi_heads.mask_heads import BCNET_KINDS, mask_boundaries
from ..amodal_batch import CHANNELS, NUM_CLASSES, data_samples, features
from ..occluder_heads import (PREDICTED_FIELDS, ROI_KEYS, TRAIN_CFG,
                              assert_each_kind_is_mmdet_pasted, assert_masks_at_the_original_size,
                              assert_no_detections_give_empty_masks, assert_one_loss_per_output,
                              assert_zero_losses_without_positive_rois, build_head, gt_and_sampling,
                              loss, predict, unreached_parameters, with_occluder_masks)

MASK_LOSSES = {'loss_amodal_mask', 'loss_amodal_boundary', 'loss_occluder_mask',
               'loss_occluder_boundary'}
# the effective weights of the authors' code (lkeab/BCNet)
LOSS_WEIGHTS = dict(amodal=1.0, amodal_boundary=1.0, occluder=0.25, occluder_boundary=1.0)
LOSS_KEYS = dict(amodal='loss_mask', amodal_boundary='loss_amodal_boundary',
                 occluder='loss_occluder_mask', occluder_boundary='loss_occluder_boundary')


def _build(seed: int = 0, **mask_head):
    return build_head(dict(type='BCNetMaskHead', in_channels=CHANNELS, conv_out_channels=8,
                           num_classes=NUM_CLASSES, **mask_head), seed)


def _trained_a_little(steps: int = 5):
    """A head after a few optimiser steps: its non-local operators are no identity any more."""
    head = _build()
    samples = with_occluder_masks()
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    for step in range(steps):
        losses = loss(head, samples, seed=step)
        optimizer.zero_grad()
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        optimizer.step()
    return head


class TestMaskBoundaries(TestCase):

    def test_two_pixel_contour_of_dilation_and_erosion(self):
        """As scipy's binary morphology with the 4-neighbourhood, the RoI's outside counting as
        background for the dilation and as foreground for the erosion."""
        rng = np.random.default_rng(0)
        masks = (rng.random((6, 28, 28)) > 0.5).astype(np.uint8)
        masks[0] = 0
        masks[1, 5:20, 3:28] = 1  # reaches the RoI's right edge
        cross = ndimage.generate_binary_structure(2, 1)
        for mask, got in zip(masks, mask_boundaries(torch.from_numpy(masks))):
            outer = ndimage.binary_dilation(mask, cross, border_value=0)
            inner = ndimage.binary_erosion(mask, cross, border_value=1)
            np.testing.assert_array_equal(got.numpy(), outer & ~inner)
        self.assertFalse(mask_boundaries(torch.from_numpy(masks[:1])).any())
        self.assertFalse(mask_boundaries(torch.from_numpy(masks[1:2]))[0, 10:15, 27].any())


class TestBCNetMaskHead(TestCase):

    def test_four_outputs_per_class_at_twice_the_roi_size(self):
        head = _build().mask_head
        for num in (5, 1, 0):
            with self.subTest(num=num):
                logits = head(torch.rand(num, CHANNELS, 14, 14))
                self.assertEqual(logits.shape, (num, len(BCNET_KINDS) * NUM_CLASSES, 28, 28))
                for kind in BCNET_KINDS:
                    self.assertEqual(head.logits_of(logits, kind).shape,
                                     (num, NUM_CLASSES, 28, 28))
        agnostic = _build(class_agnostic=True).mask_head
        self.assertEqual(agnostic(torch.rand(2, CHANNELS, 14, 14)).shape, (2, 4, 28, 28))

    def test_occluder_features_feed_the_occludee_branch_and_not_back(self):
        """Changing the occluder branch changes the amodal outputs; changing the occludee branch
        leaves the occluder outputs as they were."""
        head = _trained_a_little().mask_head.eval()
        x = torch.rand(3, CHANNELS, 14, 14)
        with torch.no_grad():
            base = head(x)
            edited = copy.deepcopy(head)
            edited.occluder_convs[0].conv.weight.mul_(-1)
            changed = edited(x)
            for kind in ('amodal', 'amodal_boundary'):
                self.assertFalse(torch.allclose(head.logits_of(changed, kind),
                                                head.logits_of(base, kind)), kind)
            edited = copy.deepcopy(head)
            edited.convs[0].conv.weight.mul_(-1)
            changed = edited(x)
            for kind in ('occluder', 'occluder_boundary'):
                torch.testing.assert_close(head.logits_of(changed, kind),
                                           head.logits_of(base, kind), msg=kind)
            self.assertFalse(torch.allclose(head.logits_of(changed, 'amodal'),
                                            head.logits_of(base, 'amodal')))

    def test_non_local_operators_start_as_the_identity_and_can_be_left_out(self):
        head = _build().mask_head
        x = torch.rand(4, 8, 14, 14)
        torch.testing.assert_close(head.occluder_nonlocal(x), x)
        without = _build(nonlocal_after=None).mask_head
        self.assertIsNone(without.occluder_nonlocal)
        self.assertEqual(without(torch.rand(2, CHANNELS, 14, 14)).shape, (2, 12, 28, 28))
        with self.assertRaisesRegex(ValueError, 'nonlocal_after'):
            BCNetMaskHead(num_convs=2, nonlocal_after=3, in_channels=4, conv_out_channels=4)
        with self.assertRaisesRegex(ValueError, 'deconvolution'):
            BCNetMaskHead(in_channels=4, upsample_cfg=dict(type='bilinear', scale_factor=2))


class TestBCNetLosses(TestCase):

    def test_one_loss_per_output_on_one_batch(self):
        assert_one_loss_per_output(self, _build(), MASK_LOSSES)

    def test_each_loss_is_the_bce_against_its_own_target(self):
        """Recomputed from the logits in each RoI's class channel and mmdet's mask_target on the
        amodal and occluder masks (boundaries: of those crops), with the authors' weights."""
        head = _build().mask_head
        gt, sampling = gt_and_sampling()
        # amodal masks that end inside their RoIs (the GT boxes), so that they have boundaries
        gt.masks = gt.visible_masks
        logits = head(torch.rand(3, CHANNELS, 14, 14))
        losses = head.loss_and_target(logits, [sampling], [gt], TRAIN_CFG)['loss_mask']
        self.assertEqual(set(losses), MASK_LOSSES)
        labels = sampling.pos_gt_labels
        for kind in BCNET_KINDS:
            field = 'occluder_masks' if kind.startswith('occluder') else 'masks'
            targets = mask_target([sampling.pos_priors], [sampling.pos_assigned_gt_inds],
                                  [gt[field]], TRAIN_CFG)
            if kind.endswith('boundary'):
                targets = mask_boundaries(targets)
            self.assertGreater(targets.sum().item(), 0, kind)
            kind_logits = head.logits_of(logits, kind)[torch.arange(3), labels]
            expected = F.binary_cross_entropy_with_logits(kind_logits, targets)[None]
            torch.testing.assert_close(losses[head.loss_name(kind)],
                                       expected * LOSS_WEIGHTS[kind], msg=kind)

    def test_changing_the_occluder_masks_changes_only_the_occluder_losses(self):
        head = _build()
        samples = with_occluder_masks()
        base = loss(head, samples)
        changed = copy.deepcopy(samples)
        for sample in changed:
            gt = sample.gt_instances
            # moved (a complement would keep the boundaries)
            gt.occluder_masks = BitmapMasks(np.roll(gt.occluder_masks.masks, 5, axis=2),
                                            *sample.img_shape)
        losses = loss(head, changed)
        for key in MASK_LOSSES:
            if key.startswith('loss_occluder'):
                self.assertNotAlmostEqual(losses[key].item(), base[key].item(), places=4)
            else:
                torch.testing.assert_close(losses[key], base[key], msg=key)

    def test_a_loss_set_to_none_is_switched_off(self):
        for kind, key in LOSS_KEYS.items():
            with self.subTest(kind=kind):
                losses = loss(_build(**{key: None}), with_occluder_masks())
                self.assertEqual(set(losses),
                                 ROI_KEYS | (MASK_LOSSES - {BCNetMaskHead.loss_name(kind)}))

    def test_missing_occluder_masks_name_the_field(self):
        with self.assertRaisesRegex(KeyError, 'occluder_masks.*with_occluder=True'):
            loss(_build(), data_samples((3, 2)))
        losses = loss(_build(loss_occluder_mask=None, loss_occluder_boundary=None),
                       data_samples((3, 2)))
        self.assertEqual(set(losses), ROI_KEYS | {'loss_amodal_mask', 'loss_amodal_boundary'})

    def test_gradients_reach_every_branch(self):
        head = _trained_a_little()
        samples = with_occluder_masks()
        feats = tuple(f.requires_grad_() for f in features(len(samples)))
        losses = loss(head, samples, feats)
        mask_head = head.mask_head
        occluder_branch = dict(occluder_convs=mask_head.occluder_convs,
                               occluder_nonlocal=mask_head.occluder_nonlocal)
        branches = dict(
            **occluder_branch, occludee_convs=mask_head.convs,
            occludee_nonlocal=mask_head.occludee_nonlocal,
            amodal_output=torch.nn.ModuleList([mask_head.upsample, mask_head.conv_logits]),
            **{f'{kind}_output': mask_head.outputs[kind] for kind in mask_head.outputs})
        # the occluder's outputs come from the occluder branch only; the amodal ones from the
        # occludee branch, which the occluder features enter (3.3)
        reaches = dict(
            loss_occluder_mask={'occluder_convs', 'occluder_nonlocal', 'occluder_output'},
            loss_occluder_boundary={'occluder_convs', 'occluder_nonlocal',
                                    'occluder_boundary_output'},
            loss_amodal_mask={*occluder_branch, 'occludee_convs', 'occludee_nonlocal',
                              'amodal_output'},
            loss_amodal_boundary={*occluder_branch, 'occludee_convs', 'occludee_nonlocal',
                                  'amodal_boundary_output'})
        for key, expected in reaches.items():
            reached = set()
            for name, module in branches.items():
                grads = torch.autograd.grad(losses[key], list(module.parameters()),
                                            retain_graph=True, allow_unused=True)
                if any(g is not None and g.abs().sum() > 0 for g in grads):
                    reached.add(name)
            self.assertEqual(reached, expected, key)
            feat_grads = torch.autograd.grad(losses[key], feats, retain_graph=True,
                                             allow_unused=True)
            self.assertTrue(any(g is not None and g.abs().sum() > 0 for g in feat_grads), key)
        unreached = unreached_parameters(mask_head, losses, MASK_LOSSES)
        self.assertEqual(unreached, [])

    def test_batches_without_positive_rois(self):
        assert_zero_losses_without_positive_rois(self, _build(), MASK_LOSSES)


class TestBCNetPrediction(TestCase):

    def test_predictions_carry_amodal_visible_invisible_masks_at_the_original_size(self):
        assert_masks_at_the_original_size(self, _trained_a_little())

    def test_visible_and_invisible_split_the_amodal_mask(self):
        """visible = amodal AND NOT occluder and invisible = amodal AND occluder: both inside
        the amodal mask, never both at one pixel."""
        for res in predict(_trained_a_little(), scale_factor=(2.0, 1.5)):
            amodal, visible, invisible = (res[field] for field in PREDICTED_FIELDS)
            self.assertFalse((visible & ~amodal).any())
            self.assertFalse((invisible & ~amodal).any())
            self.assertFalse((visible & invisible).any())

    def test_each_kind_is_the_pasted_min_of_amodal_and_occluder_logits(self):
        head = _trained_a_little()
        mask_head = head.mask_head

        def amodal_and_occluder(p):
            return mask_head.logits_of(p, 'amodal'), mask_head.logits_of(p, 'occluder')

        assert_each_kind_is_mmdet_pasted(self, head, dict(
            masks=lambda p: amodal_and_occluder(p)[0],
            visible_masks=lambda p: torch.minimum(amodal_and_occluder(p)[0],
                                                  -amodal_and_occluder(p)[1]),
            invisible_masks=lambda p: torch.minimum(*amodal_and_occluder(p))))

    def test_no_detections_give_empty_masks_of_every_kind(self):
        assert_no_detections_give_empty_masks(self, _build())
