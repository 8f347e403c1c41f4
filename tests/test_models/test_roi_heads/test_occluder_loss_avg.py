"""Which RoIs the occluder losses of BCNetMaskHead and AISFormerMaskHead average over
(``occluder_loss_avg``), against the mean computed here from mmdet's mask targets."""
from unittest import TestCase

import torch
import torch.nn.functional as F

from mmdet.structures.mask import BitmapMasks, mask_target

import mmorcnn  # noqa: F401
from mmorcnn.models.roi_heads.mask_heads import mask_boundaries
from ..amodal_batch import CHANNELS, NUM_CLASSES
from ..occluder_heads import TRAIN_CFG, build_head, gt_and_sampling

HEADS = {
    'BCNetMaskHead': dict(type='BCNetMaskHead', in_channels=CHANNELS, conv_out_channels=8,
                          num_classes=NUM_CLASSES),
    'AISFormerMaskHead': dict(type='AISFormerMaskHead', in_channels=CHANNELS,
                              conv_out_channels=16, num_classes=NUM_CLASSES,
                              feedforward_channels=32, dropout=0.0),
}
# per head, its occluder losses and their weights (the defaults)
OCCLUDER_LOSSES = {'BCNetMaskHead': dict(occluder=0.25, occluder_boundary=1.0),
                   'AISFormerMaskHead': dict(occluder=0.25)}


def _gt(empty=(1, )):
    """gt_and_sampling's image, the occluder masks of the GT ``empty`` all zero."""
    gt, sampling = gt_and_sampling()
    masks = gt.occluder_masks.masks.copy()
    masks[list(empty)] = 0
    gt.occluder_masks = BitmapMasks(masks, *masks.shape[1:])
    return gt, sampling


def _expected(logits, gt, sampling, kind, rois):
    """The weighted BCE of ``kind`` over the RoIs ``rois`` (indices, repeats counted)."""
    targets = mask_target([sampling.pos_priors], [sampling.pos_assigned_gt_inds],
                          [gt.occluder_masks], TRAIN_CFG)
    if kind.endswith('_boundary'):
        targets = mask_boundaries(targets)
    rois = torch.as_tensor(rois, dtype=torch.long)
    return F.binary_cross_entropy_with_logits(logits[rois], targets[rois])


class TestOccluderLossAverage(TestCase):

    def _losses(self, name, mode, gt, sampling, seed=0):
        head = build_head(dict(HEADS[name], occluder_loss_avg=mode), seed).mask_head.eval()
        self.assertEqual(head.occluder_loss_avg, mode)
        feats = torch.rand(3, CHANNELS, 14, 14, generator=torch.Generator().manual_seed(seed),
                           requires_grad=True)
        preds = head(feats)
        losses = head.loss_and_target(preds, [sampling], [gt], TRAIN_CFG)['loss_mask']
        labels = sampling.pos_gt_labels if name == 'BCNetMaskHead' else torch.zeros(3).long()
        logits = {kind: head.logits_of(preds, kind)[torch.arange(3), labels]
                  for kind in OCCLUDER_LOSSES[name]}
        return head, feats, losses, logits

    def test_each_mode_against_an_independent_mean(self):
        gt, sampling = _gt(empty=(1, ))  # RoIs 0 and 2 have an occluder, RoI 1 none
        selections = {'all': [0, 1, 2], 'nonempty': [0, 2], 'nonempty_and_first': [0, 2, 0, 1]}
        for name in HEADS:
            for mode, rois in selections.items():
                with self.subTest(head=name, mode=mode):
                    head, _, losses, logits = self._losses(name, mode, gt, sampling)
                    for kind, weight in OCCLUDER_LOSSES[name].items():
                        expected = weight * _expected(logits[kind], gt, sampling, kind, rois)
                        torch.testing.assert_close(losses[head.loss_name(kind)].squeeze(),
                                                   expected, msg=kind)

    def test_other_losses_do_not_change(self):
        gt, sampling = _gt(empty=(0, 1))
        for name in HEADS:
            _, _, all_rois, _ = self._losses(name, 'all', gt, sampling)
            head, _, nonempty, _ = self._losses(name, 'nonempty', gt, sampling)
            for key in all_rois:
                if key not in {head.loss_name(kind) for kind in OCCLUDER_LOSSES[name]}:
                    torch.testing.assert_close(nonempty[key], all_rois[key], msg=(name, key))

    def test_no_occluded_roi_gives_zero_with_a_graph(self):
        gt, sampling = _gt(empty=(0, 1, 2))
        for name in HEADS:
            for mode in ('nonempty', 'nonempty_and_first'):
                with self.subTest(head=name, mode=mode):
                    head, feats, losses, _ = self._losses(name, mode, gt, sampling)
                    total = 0
                    for kind in OCCLUDER_LOSSES[name]:
                        loss = losses[head.loss_name(kind)]
                        self.assertEqual(loss.item(), 0.0)
                        self.assertIsNotNone(loss.grad_fn)
                        total = total + loss
                    total.backward()
                    self.assertFalse(torch.isnan(feats.grad).any())

    def test_default_and_unknown_modes(self):
        for name in HEADS:
            self.assertEqual(build_head(HEADS[name]).mask_head.occluder_loss_avg, 'all')
            with self.assertRaisesRegex(ValueError, 'occluder_loss_avg'):
                build_head(dict(HEADS[name], occluder_loss_avg='some'))
