import copy
import os.path as osp
from unittest import TestCase

import torch
from mmengine.config import Config, ConfigDict

from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi

import mmorcnn  # noqa: F401
from mmorcnn.models.mask_paste import mask_paste_windows
from mmorcnn.structures import occlusion_graph
from ..amodal_batch import NUM_CLASSES, data_samples, features, proposals, roi_head_cfg
from ..paste_reference import paste_each_head

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', 'orcnn')
ROI_KEYS = {'loss_cls', 'loss_bbox', 'acc'}
MASK_FIELDS = ('masks', 'visible_masks', 'invisible_masks')


def _build(variant: str = 'orcnn', class_agnostic: bool = False, seed: int = 0):
    torch.manual_seed(seed)
    head = MODELS.build(ConfigDict(roi_head_cfg(variant, class_agnostic)))
    head.init_weights()
    return head


def _loss(head, num_gts=(3, 2), seed=0):
    samples = data_samples(num_gts)
    torch.manual_seed(seed)  # the RoI sampler draws at random
    return head.loss(features(len(num_gts)), proposals(samples), samples)


def _predict(head, num_gts=(3, 2), rescale=True, scale_factor=(1.0, 1.0), boxes=None):
    samples = data_samples(num_gts, scale_factor=scale_factor)
    with torch.no_grad():
        return head.predict(features(len(num_gts)), proposals(samples, boxes=boxes), samples,
                            rescale=rescale)


# The synthetic ORCNN configs and the mask losses they train with.
SYNTHETIC_VARIANT_LOSSES = {
    'orcnn_r18_fpn_tiny_synthetic.py': {'amodal', 'visible', 'invisible'},
    'orcnn_r18_fpn_wo-iv-loss_tiny_synthetic.py': {'amodal', 'visible'},
    'orcnn_r18_fpn_wo-v-loss_tiny_synthetic.py': {'amodal', 'invisible'},
    'orcnn_r18_fpn_independent_tiny_synthetic.py': {'amodal', 'visible', 'invisible'},
    'orcnn_r18_fpn_cls-agn_tiny_synthetic.py': {'amodal', 'visible', 'invisible'},
}


def _detector(config: str):
    """A whole detector built from one of the synthetic ORCNN configs (ResNet-18)."""
    cfg = Config.fromfile(osp.join(CONFIG_DIR, config))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _batch(model, num_gts=(3, 2), training=True):
    """A preprocessed batch of 64x64 images with occluded rectangles."""
    samples = data_samples(num_gts)
    inputs = [torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8) for _ in samples]
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training)


class TestOcclusionRoIHead(TestCase):

    def test_loss_keys_per_variant(self):
        expected = {
            'orcnn': {'loss_amodal_mask', 'loss_visible_mask', 'loss_invisible_mask'},
            'wo-iv-loss': {'loss_amodal_mask', 'loss_visible_mask'},
            'wo-v-loss': {'loss_amodal_mask', 'loss_invisible_mask'},
            'independent': {'loss_amodal_mask', 'loss_visible_mask', 'loss_invisible_mask'},
            'amodal': {'loss_amodal_mask'},
        }
        for variant, mask_keys in expected.items():
            with self.subTest(variant=variant):
                losses = _loss(_build(variant))
                self.assertEqual(set(losses), ROI_KEYS | mask_keys)
                for key in mask_keys:
                    self.assertTrue(torch.isfinite(losses[key]).all())
                    self.assertGreater(losses[key].item(), 0)

    def test_loss_weights_scale_each_mask_loss(self):
        expected = _loss(_build('orcnn'))
        cfg = ConfigDict(roi_head_cfg('orcnn'))
        weights = dict(mask_head=0.5, visible_mask_head=2.0, invisible_mask_head=3.0)
        for head, weight in weights.items():
            cfg[head].loss_mask = dict(type='CrossEntropyLoss', use_mask=True, loss_weight=weight)
        torch.manual_seed(0)
        head = MODELS.build(cfg)
        head.init_weights()
        losses = _loss(head)
        for kind, weight in zip(('amodal', 'visible', 'invisible'), weights.values()):
            key = f'loss_{kind}_mask'
            torch.testing.assert_close(losses[key], expected[key] * weight)

    def test_visible_head_has_the_amodal_head_architecture(self):
        head = _build('orcnn')
        amodal = {k: v.shape for k, v in head.mask_head.state_dict().items()}
        visible = {k: v.shape for k, v in head.visible_mask_head.state_dict().items()}
        self.assertEqual(amodal, visible)
        self.assertEqual(head.visible_mask_head.mask_type, 'visible')
        self.assertEqual(list(head.invisible_mask_head.parameters()), [])

    def test_occlusion_logits_follow_from_amodal_and_visible_logits(self):
        head = _build('orcnn')
        rois = torch.tensor([[0., 4., 4., 40., 40.], [1., 10., 2., 30., 50.]])
        results = head._mask_forward(features(2), rois)
        expected = results['mask_preds'] - results['visible_mask_preds'].relu()
        torch.testing.assert_close(results['invisible_mask_preds'], expected)

    def test_independent_losses_send_no_gradient_into_amodal_head_or_features(self):
        for variant, isolated in (('independent', True), ('orcnn', False)):
            with self.subTest(variant=variant):
                head = _build(variant)
                samples = data_samples((3, 2))
                feats = tuple(f.requires_grad_() for f in features(2))
                torch.manual_seed(0)
                losses = head.loss(feats, proposals(samples), samples)
                amodal_params = list(head.mask_head.parameters())
                roi_params = list(head.mask_roi_extractor.parameters())
                grads = torch.autograd.grad(
                    losses['loss_visible_mask'] + losses['loss_invisible_mask'],
                    amodal_params + roi_params + list(feats),
                    retain_graph=True,
                    allow_unused=True)
                reached = [g is not None and g.abs().sum().item() > 0 for g in grads]
                if isolated:
                    self.assertFalse(any(reached))
                else:  # L_IV reaches the amodal head and the features in plain ORCNN
                    self.assertTrue(all(reached[:len(amodal_params)]))
                    self.assertTrue(any(reached[len(amodal_params) + len(roi_params):]))
                visible_grads = torch.autograd.grad(
                    losses['loss_visible_mask'] + losses['loss_invisible_mask'],
                    list(head.visible_mask_head.parameters()))
                self.assertTrue(all(g.abs().sum() > 0 for g in visible_grads))

    def test_independent_amodal_loss_is_that_of_orcnn(self):
        torch.testing.assert_close(_loss(_build('independent'))['loss_amodal_mask'],
                                   _loss(_build('orcnn'))['loss_amodal_mask'])

    def test_predictions_carry_every_mask_kind_at_the_original_size(self):
        head = _build('orcnn')
        results = _predict(head, rescale=True, scale_factor=(2.0, 2.0))
        for res in results:
            n = len(res)
            self.assertGreater(n, 0)
            self.assertEqual(res.bboxes.shape, (n, 4))
            self.assertEqual(res.labels.shape, (n, ))
            self.assertEqual(res.scores.shape, (n, ))
            for field in MASK_FIELDS:
                self.assertEqual(res[field].shape, (n, 32, 32), field)
                self.assertEqual(res[field].dtype, torch.bool)
            self.assertLessEqual(res.bboxes.max().item(), 32 + 1e-3)

    def test_predictions_without_rescale_are_at_the_input_size(self):
        head = _build('orcnn')
        rescaled = _predict(head, rescale=True, scale_factor=(2.0, 2.0))
        results = _predict(head, rescale=False, scale_factor=(2.0, 2.0))
        for res, res_rescaled in zip(results, rescaled):
            for field in MASK_FIELDS:
                self.assertEqual(res[field].shape, (len(res), 64, 64))
            torch.testing.assert_close(res.bboxes / 2, res_rescaled.bboxes)

    def test_masks_of_all_kinds_equal_those_pasted_one_head_at_a_time(self):
        """The batched paste of predict_mask changes no pixel of any kind, nor any box."""
        for class_agnostic in (False, True):
            head = _build('orcnn', class_agnostic=class_agnostic)
            samples = data_samples((3, 2, 4), scale_factor=(2.0, 1.5))
            x, metas = features(3), [sample.metainfo for sample in samples]
            with torch.no_grad():
                detections = head.predict_bbox(x, metas, proposals(samples), head.test_cfg,
                                               rescale=False)
                num = [len(res) for res in detections]
                logits = head._mask_forward(x, bbox2roi([res.bboxes for res in detections]))
                heads = [head.mask_head, head.visible_mask_head, head.invisible_mask_head]
                preds = [logits[key].split(num) for key in
                         ('mask_preds', 'visible_mask_preds', 'invisible_mask_preds')]
                for rescale in (True, False):
                    batched = head.predict_mask(x, metas, copy.deepcopy(detections), rescale)
                    reference = paste_each_head(heads, preds, copy.deepcopy(detections),
                                                         metas, head.test_cfg, rescale)
                    for new, old in zip(batched, reference):
                        self.assertTrue(torch.equal(new.bboxes, old.bboxes))
                        for field in MASK_FIELDS:
                            self.assertTrue(torch.equal(new[field], old[field]), field)
                    self.assertTrue(any(res.invisible_masks.any() for res in batched))

    def test_predicted_occlusion_lies_inside_the_amodal_mask(self):
        for res in _predict(_build('orcnn')):
            self.assertFalse((res.invisible_masks & ~res.masks).any())

    def test_no_detections_give_empty_masks_of_every_kind(self):
        head = _build('orcnn')
        for boxes in ([torch.zeros(0, 4), torch.zeros(0, 4)],
                      [torch.tensor([[2., 2., 30., 30.]]), torch.zeros(0, 4)]):
            results = _predict(head, boxes=boxes, scale_factor=(2.0, 2.0))
            empty = results[1]
            self.assertEqual(len(empty), 0)
            for field in MASK_FIELDS:
                self.assertEqual(empty[field].shape, (0, 32, 32), field)

    def test_tensor_mode_returns_logits_of_every_head(self):
        head = _build('orcnn')
        samples = data_samples((3, 2))
        outs = head.forward(features(2), proposals(samples), samples)
        self.assertEqual(len(outs), 5)
        num_rois = sum(len(p) for p in proposals(samples))
        amodal, visible, invisible = outs[2:]
        for logits in (amodal, visible, invisible):
            self.assertEqual(logits.shape, (min(num_rois, 100), NUM_CLASSES, 28, 28))
        torch.testing.assert_close(invisible, amodal - visible.relu())

    def test_class_agnostic_mask_predictors(self):
        head = _build('orcnn', class_agnostic=True)
        for sub in (head.mask_head, head.visible_mask_head, head.invisible_mask_head):
            self.assertTrue(sub.class_agnostic)
        rois = torch.tensor([[0., 4., 4., 40., 40.]])
        for key in ('mask_preds', 'visible_mask_preds', 'invisible_mask_preds'):
            self.assertEqual(head._mask_forward(features(2), rois)[key].shape, (1, 1, 28, 28))
        losses = _loss(head)
        self.assertTrue(all(torch.isfinite(v).all() for v in losses.values()))
        for res in _predict(head):
            for field in MASK_FIELDS:
                self.assertEqual(res[field].shape, (len(res), 64, 64))

    def test_occlusion_is_class_specific_unless_both_heads_are_agnostic(self):
        cfg = ConfigDict(roi_head_cfg('orcnn'))
        cfg.visible_mask_head.class_agnostic = True
        head = MODELS.build(cfg)
        self.assertFalse(head.invisible_mask_head.class_agnostic)
        rois = torch.tensor([[0., 4., 4., 40., 40.]])
        logits = head._mask_forward(features(1), rois)['invisible_mask_preds']
        self.assertEqual(logits.shape, (1, NUM_CLASSES, 28, 28))

    def test_images_without_gt(self):
        head = _build('orcnn')
        losses = _loss(head, num_gts=(0, 2))
        self.assertEqual(set(losses), ROI_KEYS | {
            'loss_amodal_mask', 'loss_visible_mask', 'loss_invisible_mask'})
        self.assertTrue(all(torch.isfinite(v).all() for v in losses.values()))

    def test_batches_without_positive_rois(self):
        head = _build('orcnn')
        losses = _loss(head, num_gts=(0, 0))
        for key in ('loss_amodal_mask', 'loss_visible_mask', 'loss_invisible_mask'):
            self.assertEqual(losses[key].item(), 0)
        total = sum(v.sum() for k, v in losses.items() if k.startswith('loss'))
        total.backward()  # the mask heads stay in the graph, as in mmdet

    def test_amodal_only_equals_mmdet_standard_roi_head(self):
        mmdet_head = _build('mask-rcnn')
        head = _build('amodal', seed=1)
        head.load_state_dict(mmdet_head.state_dict())
        self._assert_amodal_branch_equal(head, mmdet_head)

    def test_orcnn_amodal_branch_equals_mmdet_standard_roi_head(self):
        mmdet_head = _build('mask-rcnn')
        head = _build('orcnn', seed=1)
        missing = head.load_state_dict(mmdet_head.state_dict(), strict=False).missing_keys
        self.assertTrue(all(key.startswith('visible_mask_head.') for key in missing))
        self._assert_amodal_branch_equal(head, mmdet_head)

    def test_variant_configs_give_their_loss_keys(self):
        for config, kinds in SYNTHETIC_VARIANT_LOSSES.items():
            with self.subTest(config=config):
                model = _detector(config)
                losses = model(**_batch(model), mode='loss')
                mask_keys = {key for key in losses if key.endswith('_mask')}
                self.assertEqual(mask_keys, {f'loss_{kind}_mask' for kind in kinds})

    def test_independent_config_keeps_backbone_and_amodal_head_free_of_visible_losses(self):
        model = _detector('orcnn_r18_fpn_independent_tiny_synthetic.py')
        losses = model(**_batch(model), mode='loss')
        params = [p for module in (model.backbone, model.neck, model.roi_head.mask_head)
                  for p in module.parameters() if p.requires_grad]
        grads = torch.autograd.grad(losses['loss_visible_mask'] + losses['loss_invisible_mask'],
                                    params, allow_unused=True)
        self.assertTrue(all(g is None for g in grads))

    def test_predict_and_tensor_modes(self):
        model = _detector('orcnn_r18_fpn_tiny_synthetic.py')
        model.eval()
        with torch.no_grad():
            batch = _batch(model, training=False)
            results = model(**batch, mode='predict')
            outs = model(**batch, mode='tensor')
        for result in results:
            pred = result.pred_instances
            for field in ('bboxes', 'labels', 'scores') + MASK_FIELDS:
                self.assertIn(field, pred)
            for field in MASK_FIELDS:
                self.assertEqual(pred[field].shape, (len(pred), 64, 64))
        amodal, visible, invisible = outs[-1][2:]
        torch.testing.assert_close(invisible, amodal - visible.relu())

    def _assert_amodal_branch_equal(self, head, mmdet_head):
        expected = _loss(mmdet_head)
        losses = _loss(head)
        expected['loss_amodal_mask'] = expected.pop('loss_mask')
        for key, value in expected.items():
            torch.testing.assert_close(losses[key], value, msg=key)
        for rescale in (True, False):
            expected = _predict(mmdet_head, rescale=rescale, scale_factor=(2.0, 2.0))
            results = _predict(head, rescale=rescale, scale_factor=(2.0, 2.0))
            for res, exp in zip(results, expected):
                for field in ('bboxes', 'scores', 'labels', 'masks'):
                    torch.testing.assert_close(res[field], exp[field], msg=field)


class TestOcclusionOrderPrediction(TestCase):
    """ORCNN predictions carry the occlusion order of their own masks (the one rule)."""

    def test_orcnn_predictions_carry_occluders_and_depth_of_their_masks(self):
        related = 0
        for res in _predict(_build('orcnn'), num_gts=(6, 5)):
            n = len(res)
            self.assertEqual(res.occluders.dtype, torch.bool)
            self.assertEqual(res.occluders.shape, (n, n))
            self.assertEqual(res.depth.dtype, torch.long)
            self.assertEqual(res.depth.shape, (n, ))
            overlap = (res.invisible_masks.flatten(1).float()
                       @ res.visible_masks.flatten(1).float().T)
            # an edge "j hides i" needs i's invisible part on j's visible part
            self.assertTrue((overlap[res.occluders] >= 4).all())
            self.assertFalse(res.occluders.diagonal().any())
            self.assertTrue((res.depth[~res.occluders.any(1)] == 0).all())
            related += int(res.occluders.sum())
        self.assertGreater(related, 0)

    def test_order_read_inside_the_paste_windows_equals_the_rule_on_whole_images(self):
        """The head reads each mask inside its box's paste window only: same order, bit for bit,
        as the rule on the whole pasted masks, also with rescaled boxes."""
        head = _build('orcnn')
        related = 0
        for rescale, scale_factor in ((True, (1.0, 1.0)), (True, (2.0, 1.5)), (False, (2.0, 1.5))):
            for res in _predict(head, num_gts=(8, 6), rescale=rescale, scale_factor=scale_factor):
                whole = occlusion_graph(res.masks, res.visible_masks, res.invisible_masks)
                self.assertTrue(torch.equal(res.occluders, whole.occluders))
                self.assertTrue(torch.equal(res.depth, whole.depth))
                related += int(res.occluders.sum())
                # and every pasted mask is empty outside its window
                for field in MASK_FIELDS:
                    outside = res[field].clone()
                    for i, (y0, y1, x0, x1) in enumerate(mask_paste_windows(res).tolist()):
                        outside[i, y0:y1, x0:x1] = False
                    self.assertFalse(outside.any(), field)
        self.assertGreater(related, 0)

    def test_test_cfg_switch_and_amodal_only_heads_leave_them_out(self):
        head = _build('orcnn')
        head.test_cfg.occlusion_order = False
        for variant_head in (head, _build('amodal')):
            for res in _predict(variant_head):
                self.assertNotIn('occluders', res)
                self.assertNotIn('depth', res)

    def test_detector_predictions_carry_them(self):
        model = _detector('orcnn_r18_fpn_tiny_synthetic.py')
        model.eval()
        with torch.no_grad():
            results = model(**_batch(model, training=False), mode='predict')
        for result in results:
            pred = result.pred_instances
            self.assertEqual(pred.occluders.shape, (len(pred), len(pred)))
            self.assertEqual(pred.depth.shape, (len(pred), ))
