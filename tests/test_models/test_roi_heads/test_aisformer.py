"""AISFormer's mask head (AISFormerMaskHead) in its RoI head (AmodalRoIHead)."""
import copy
import os.path as osp
from unittest import TestCase

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks.transformer import MultiheadAttention
from mmengine.config import Config, ConfigDict

from mmdet.registry import MODELS
from mmdet.structures.mask import BitmapMasks, mask_target

import mmorcnn  # noqa: F401
from mmorcnn.models import AISFormerMaskHead, MultiheadAttentionWithoutWeights
from mmorcnn.models.roi_heads.mask_heads import AISFORMER_KINDS
from ..amodal_batch import CHANNELS, NUM_CLASSES, data_samples, features
from ..occluder_heads import (ROI_KEYS, TRAIN_CFG, assert_each_kind_is_mmdet_pasted,
                              assert_masks_at_the_original_size,
                              assert_no_detections_give_empty_masks, assert_one_loss_per_output,
                              assert_zero_losses_without_positive_rois, build_head, gt_and_sampling,
                              head_cfg, loss, predict, unreached_parameters, with_occluder_masks)

MASK_LOSSES = {f'loss_{kind}_mask' for kind in AISFORMER_KINDS}
FIELD_OF_KIND = dict(occluder='occluder_masks', visible='visible_masks', amodal='masks',
                     invisible='invisible_masks')
# the weights of the authors' code
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
LOSS_WEIGHTS = dict(occluder=0.25, visible=1.0, amodal=1.0, invisible=0.25)


def _head_cfg(**mask_head) -> ConfigDict:
    return head_cfg(dict(type='AISFormerMaskHead', in_channels=CHANNELS, conv_out_channels=16,
                         num_classes=NUM_CLASSES, feedforward_channels=32, **mask_head))


def _build(seed: int = 0, **mask_head):
    return build_head(_head_cfg(**mask_head).mask_head, seed)


class TestAISFormerMaskHead(TestCase):

    def test_four_logit_maps_per_roi_at_twice_the_roi_size(self):
        head = _build().mask_head
        for num in (5, 1, 0):
            with self.subTest(num=num):
                logits = head(torch.rand(num, CHANNELS, 14, 14))
                self.assertEqual(logits.shape, (num, len(AISFORMER_KINDS), 28, 28))
        self.assertEqual(AISFORMER_KINDS, ('occluder', 'visible', 'amodal', 'invisible'))

    def test_roi_size_sets_the_mask_size(self):
        torch.manual_seed(0)
        head = AISFormerMaskHead(in_channels=4, conv_out_channels=8, roi_feat_size=7,
                                 feedforward_channels=16)
        self.assertEqual(head(torch.rand(2, 4, 7, 7)).shape, (2, 4, 14, 14))

    def test_masks_are_dot_products_of_query_and_pixel_embeddings(self):
        """Each RoI's four logit maps are linear in its pixel embeddings: they span at most
        the embedding size, and the four kinds differ."""
        head = _build().mask_head.eval()
        logits = head(torch.rand(3, CHANNELS, 14, 14))
        for roi in logits:
            self.assertEqual(torch.linalg.matrix_rank(roi.flatten(1)).item(), 4)
        self.assertFalse(torch.allclose(logits[:, 1], logits[:, 2]))

    def test_class_agnostic_and_upsampling_are_fixed(self):
        for key, value in (('class_agnostic', False), ('upsample_cfg', dict(type='bilinear'))):
            with self.subTest(key=key), self.assertRaisesRegex(ValueError, key):
                AISFormerMaskHead(in_channels=4, conv_out_channels=8, **{key: value})
        self.assertTrue(_build().mask_head.class_agnostic)

    def test_attention_type_of_the_config_same_outputs(self):
        """The attention without weights (default, and the configs') gives the outputs of
        mmcv's MultiheadAttention with the same parameters."""
        default = _build().mask_head.eval()
        mmcv = _build(attn_cfg=dict(type='MultiheadAttention')).mask_head.eval()
        for head, cls in ((default, MultiheadAttentionWithoutWeights), (mmcv, MultiheadAttention)):
            attentions = [m for m in head.modules() if isinstance(m, MultiheadAttention)]
            self.assertEqual(len(attentions), 3)  # encoder self, decoder self and cross
            self.assertTrue(all(type(m) is cls for m in attentions), cls)
        mmcv.load_state_dict(default.state_dict())
        x = torch.rand(3, CHANNELS, 14, 14)
        with torch.no_grad():
            torch.testing.assert_close(default(x), mmcv(x))
        cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'models',
                                       'aisformer_roi_head.py'))
        self.assertEqual(cfg.aisformer_roi_head.mask_head.attn_cfg.type,
                         'MultiheadAttentionWithoutWeights')

    def test_transformer_layers_and_queries(self):
        head = _build(num_encoder_layers=2, num_decoder_layers=3, num_heads=4).mask_head
        self.assertEqual(len(head.encoder.layers), 2)
        self.assertEqual(len(head.decoder.layers), 3)
        self.assertEqual(head.encoder.layers[0].self_attn.num_heads, 4)
        # visible, occluder, amodal and the authors' fourth query
        self.assertEqual(head.query_embed.weight.shape, (4, 16))
        self.assertEqual(head(torch.rand(2, CHANNELS, 14, 14)).shape, (2, 4, 28, 28))
        self.assertEqual(_build(extra_query=False).mask_head.query_embed.weight.shape, (3, 16))

    def test_fourth_query_gives_no_mask_and_enters_the_later_self_attention(self):
        """The first decoder layer's self-attention starts from zero targets, so every query
        reads the same value there: with one decoder layer (the authors') the fourth query does
        not change the masks, with more it does."""
        x = torch.rand(2, CHANNELS, 14, 14)
        for layers in (1, 2):
            head = _build(seed=3, num_decoder_layers=layers).mask_head.eval()
            with torch.no_grad():
                for layer in head.decoder.layers:  # biases as after training, not zero
                    layer.self_attn.attn.in_proj_bias.normal_()
                head.pixel_embed.weight.normal_()  # logits of order 1, not near zero
                before = head(x)
                head.query_embed.weight[3] += 1.0
                after = head(x)
            for k, kind in enumerate(AISFORMER_KINDS):
                if layers == 1:  # the same up to rounding: the weights of equal values sum to 1
                    torch.testing.assert_close(after[:, k], before[:, k], msg=kind)
                else:
                    self.assertFalse(torch.allclose(after[:, k], before[:, k], rtol=1e-3,
                                                    atol=1e-3), kind)

    def test_decoder_without_final_norm_unless_asked(self):
        self.assertIsInstance(_build().mask_head.decoder.post_norm, torch.nn.Identity)
        self.assertIsInstance(_build(decoder_post_norm=True).mask_head.decoder.post_norm,
                              torch.nn.LayerNorm)

    def test_transformer_keeps_pytorch_init_unless_xavier(self):
        """init_weights leaves the transformer as PyTorch built it (the authors' code), or
        re-initialises its weight matrices with Xavier; the MLPs are Xavier either way."""
        for init, changed in (('pytorch', False), ('xavier', True)):
            torch.manual_seed(0)
            head = AISFormerMaskHead(in_channels=CHANNELS, conv_out_channels=16,
                                     feedforward_channels=32, transformer_init=init)
            built = {k: v.clone() for k, v in head.state_dict().items()}
            torch.manual_seed(1)
            head.init_weights()
            for name, value in head.state_dict().items():
                if name.startswith(('encoder.', 'decoder.')) and value.dim() > 1:
                    self.assertEqual(not torch.equal(value, built[name]), changed, (init, name))
            # the MLPs' weights are re-drawn in both cases
            self.assertFalse(torch.equal(head.mask_embed.layers[0].weight,
                                         built['mask_embed.layers.0.weight']))
        with self.assertRaisesRegex(ValueError, 'transformer_init'):
            AISFormerMaskHead(in_channels=4, conv_out_channels=8, transformer_init='detr')


class TestAISFormerLosses(TestCase):

    def test_one_loss_per_kind_on_one_batch(self):
        assert_one_loss_per_output(self, _build(), MASK_LOSSES)

    def test_each_loss_is_the_bce_against_its_own_target(self):
        """Recomputed from the logits and mmdet's mask_target on each kind's GT field: each
        loss learns from its own masks, with the authors' weights."""
        head = _build().mask_head.eval()  # no dropout
        gt, sampling = gt_and_sampling()
        logits = head(torch.rand(3, CHANNELS, 14, 14))
        losses = head.loss_and_target(logits, [sampling], [gt], TRAIN_CFG)['loss_mask']
        self.assertEqual(set(losses), MASK_LOSSES)
        for k, kind in enumerate(AISFORMER_KINDS):
            targets = mask_target([sampling.pos_priors], [sampling.pos_assigned_gt_inds],
                                  [gt[FIELD_OF_KIND[kind]]], TRAIN_CFG)
            self.assertGreater(targets.sum().item(), 0, kind)
            expected = F.binary_cross_entropy_with_logits(logits[:, k], targets)[None]  # as mmdet
            torch.testing.assert_close(losses[f'loss_{kind}_mask'],
                                       expected * LOSS_WEIGHTS[kind], msg=kind)

    def test_changing_one_target_changes_only_its_loss(self):
        head = _build(dropout=0.0)
        samples = with_occluder_masks()
        base = loss(head, samples)
        changed = copy.deepcopy(samples)
        for sample in changed:
            gt = sample.gt_instances
            gt.occluder_masks = BitmapMasks(1 - gt.occluder_masks.masks, *sample.img_shape)
        losses = loss(head, changed)
        for key in MASK_LOSSES:
            if key == 'loss_occluder_mask':
                self.assertNotAlmostEqual(losses[key].item(), base[key].item(), places=4)
            else:
                torch.testing.assert_close(losses[key], base[key], msg=key)

    def test_a_loss_set_to_none_is_switched_off(self):
        for kind in AISFORMER_KINDS:
            with self.subTest(kind=kind):
                key = 'loss_mask' if kind == 'amodal' else f'loss_{kind}_mask'
                losses = loss(_build(**{key: None}), with_occluder_masks())
                self.assertEqual(set(losses), ROI_KEYS | (MASK_LOSSES - {f'loss_{kind}_mask'}))

    def test_loss_weights_scale_each_loss(self):
        base = loss(_build(dropout=0.0), with_occluder_masks())
        weights = dict(occluder=2.0, visible=0.5, amodal=3.0, invisible=1.5)
        cfg = {('loss_mask' if kind == 'amodal' else f'loss_{kind}_mask'):
               dict(type='CrossEntropyLoss', use_mask=True, loss_weight=weight)
               for kind, weight in weights.items()}
        losses = loss(_build(dropout=0.0, **cfg), with_occluder_masks())
        for kind, weight in weights.items():
            key = f'loss_{kind}_mask'
            torch.testing.assert_close(losses[key], base[key] / LOSS_WEIGHTS[kind] * weight)

    def test_missing_occluder_masks_name_the_field(self):
        with self.assertRaisesRegex(KeyError, 'occluder_masks'):
            loss(_build(), data_samples((3, 2)))
        losses = loss(_build(loss_occluder_mask=None), data_samples((3, 2)))
        self.assertNotIn('loss_occluder_mask', losses)

    def test_gradients_reach_every_branch(self):
        head = _build()
        samples = with_occluder_masks()
        feats = tuple(f.requires_grad_() for f in features(len(samples)))
        losses = loss(head, samples, feats)
        mask_head = head.mask_head
        branches = dict(convs=mask_head.convs, deconv=mask_head.upsample,
                        positional_encoding=mask_head.positional_encoding,
                        encoder=mask_head.encoder, queries=mask_head.query_embed,
                        decoder=mask_head.decoder, mask_embed=mask_head.mask_embed,
                        invisible_embed=mask_head.invisible_embed,
                        pixel_embed=torch.nn.ModuleList([mask_head.pixel_norm,
                                                         mask_head.pixel_embed]))
        for kind in AISFORMER_KINDS:
            key = f'loss_{kind}_mask'
            for name, module in branches.items():
                params = list(module.parameters())
                grads = torch.autograd.grad(losses[key], params, retain_graph=True,
                                            allow_unused=True)
                reached = any(g is not None and g.abs().sum() > 0 for g in grads)
                # 3.4: only the invisible mask is computed from the invisible embedding
                self.assertEqual(reached, name != 'invisible_embed' or kind == 'invisible',
                                 f'{key} -> {name}')
            feat_grads = torch.autograd.grad(losses[key], feats, retain_graph=True,
                                             allow_unused=True)
            self.assertTrue(any(g is not None and g.abs().sum() > 0 for g in feat_grads), key)
        unreached = unreached_parameters(mask_head, losses, MASK_LOSSES)
        # As in DETR, the decoder starts from zero targets (the queries are positional
        # embeddings), so the first layer's self-attention adds only its biases, zero at init.
        self.assertEqual(unreached, ['decoder.layers.0.self_attn.attn.in_proj_weight',
                                     'decoder.layers.0.self_attn.attn.out_proj.weight',
                                     'decoder.layers.0.norms.0.weight'])

    def test_batches_without_positive_rois(self):
        assert_zero_losses_without_positive_rois(self, _build(), MASK_LOSSES)


class TestAmodalRoIHeadPrediction(TestCase):

    def test_predictions_carry_amodal_visible_invisible_masks_at_the_original_size(self):
        assert_masks_at_the_original_size(self, _build())

    def test_each_kind_is_its_own_logit_map_pasted(self):
        """Pasting each kind's logits on its own with the mmdet paste gives the same masks."""
        assert_each_kind_is_mmdet_pasted(self, _build(), {
            field: lambda p, kind=kind: AISFormerMaskHead.logits_of(p, kind)
            for kind, field in (('amodal', 'masks'), ('visible', 'visible_masks'),
                                ('invisible', 'invisible_masks'))})

    def test_no_detections_give_empty_masks_of_every_kind(self):
        assert_no_detections_give_empty_masks(self, _build())

    def test_occlusion_order_can_be_switched_off(self):
        cfg = _head_cfg()
        cfg.test_cfg.occlusion_order = False
        head = MODELS.build(cfg)
        head.init_weights()
        for res in predict(head):
            self.assertNotIn('occluders', res)
            self.assertIn('invisible_masks', res)
