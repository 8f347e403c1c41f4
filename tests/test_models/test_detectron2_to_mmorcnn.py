"""mmorcnn.models.detectron2_to_mmorcnn (tools/model_converters/detectron2_to_mmorcnn.py) on
Detectron2 checkpoints made from the authors' names and shapes (authors_heads.py): the converted
checkpoint loads with strict=True and the mask heads compute what the authors' heads compute with
the source tensors; what does not fit is a named error naming the tensors."""
import os.path as osp
import pickle
import subprocess
import sys
import tempfile
from unittest import TestCase

import torch
from mmengine.config import Config

from mmorcnn.models import detectron2_to_mmorcnn as d2
from mmorcnn.models.roi_heads.mask_heads.aisformer_mask_head import AISFORMER_KINDS
from mmorcnn.models.roi_heads.mask_heads.bcnet_mask_head import BCNET_KINDS
from mmorcnn.structures import (CheckpointConversionError, CheckpointKeysError,
                                ClassMappingError, PreprocessingMismatchError)
from mmorcnn.utils.checkpoint import setup_checkpoint_loading
from . import authors_heads as authors

ROOT = osp.join(osp.dirname(__file__), '..', '..')
TOOL = osp.join(ROOT, 'tools', 'model_converters', 'detectron2_to_mmorcnn.py')
CONFIGS = {
    'orcnn': 'configs/orcnn/orcnn_r18_fpn_tiny_synthetic.py',
    'amodal_mrcnn': 'configs/amodal_mask_rcnn/amodal-mask-rcnn_r18_fpn_tiny_synthetic.py',
    'bcnet': 'configs/bcnet/bcnet_r18_fpn_tiny_synthetic.py',
    'aisformer': 'configs/aisformer/aisformer_r18_fpn_tiny_synthetic.py',
    'bcnet_r50_kins': 'configs/bcnet/bcnet_r50_fpn_48k_kins.py',
}
#: Detectron2's MSRA preprocessing and caffe-style ResNet, as --cfg-options.
CAFFE = {'model.backbone.style': 'caffe',
         'model.data_preprocessor.mean': [103.53, 116.28, 123.675],
         'model.data_preprocessor.std': [1.0, 1.0, 1.0],
         'model.data_preprocessor.bgr_to_rgb': False}
#: The authors' heads take RoI features of their own width: the tiny models' 64 FPN channels.
AUTHORS_WIDTH = {'model.roi_head.mask_head.conv_out_channels': 64}
KINS2020 = ['cyclist', 'pedestrian', 'rider', 'car', 'tram', 'truck', 'van', 'misc']


def config_path(name: str) -> str:
    return osp.join(ROOT, CONFIGS[name])


def build(name: str, options: dict) -> torch.nn.Module:
    cfg = Config.fromfile(config_path(name))
    cfg.merge_from_dict(options)
    return d2.build_model(cfg).eval()


def load_converted(model: torch.nn.Module, path: str) -> dict:
    setup_checkpoint_loading()
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    return checkpoint['meta']


def roi_features(channels: int, size: int = 14, num: int = 3, seed: int = 5) -> torch.Tensor:
    return torch.randn(num, channels, size, size, generator=torch.Generator().manual_seed(seed))


#: The kinds of the outputs of the authors' heads, in their order.
AUTHORS_OUTPUTS = {'bcnet': ('amodal', 'amodal_boundary', 'occluder', 'occluder_boundary'),
                   'aisformer': ('visible', 'occluder', 'amodal', 'invisible')}


def authors_logits(arch: str, state: dict, x: torch.Tensor) -> dict:
    """``{kind: logits}`` of the authors' mask head with the weights of ``state``."""
    with torch.no_grad():
        return dict(zip(AUTHORS_OUTPUTS[arch], authors.authors_mask_head(state)(x)))


def assert_head_logits(head: torch.nn.Module, x: torch.Tensor, expected: dict, msg: str = ''):
    """The logits of every output of a multi-output mask head on ``x`` equal ``expected``'s."""
    with torch.no_grad():
        logits = head(x)
    for kind, value in expected.items():
        torch.testing.assert_close(head.logits_of(logits, kind), value, msg=f'{msg} {kind}',
                                   rtol=1e-4, atol=1e-4)


class TestMaskRcnn(TestCase):

    def test_cli_pth_into_orcnn_fills_both_mask_heads(self):
        state = authors.detectron2_state('mask_rcnn')
        model = build('orcnn', CAFFE)
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = osp.join(tmp, 'model_final.pth'), osp.join(tmp, 'out', 'orcnn.pth')
            authors.save_pth(state, src)
            options = [f'{k}={v}'.replace(' ', '') for k, v in CAFFE.items()]
            proc = subprocess.run(
                [sys.executable, TOOL, src, dst, '--config', config_path('orcnn'),
                 '--cfg-options', *options], capture_output=True, text=True, cwd=ROOT)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn('mask_rcnn', proc.stdout)
            meta = load_converted(model, dst)
        self.assertEqual(meta['architecture'], 'mask_rcnn')
        x = roi_features(64)
        expected = authors.mask_rcnn_logits(state, x)
        with torch.no_grad():
            torch.testing.assert_close(model.roi_head.mask_head(x), expected)
            torch.testing.assert_close(model.roi_head.visible_mask_head(x), expected)
            scores, _ = model.roi_head.bbox_head(roi_features(64, 7))
        torch.testing.assert_close(scores, authors.box_head_scores(state, roi_features(64, 7)))

    def test_visible_mask_head_of_another_shape_is_named(self):
        state = authors.detectron2_state('mask_rcnn')
        model = build('orcnn', {'model.roi_head.visible_mask_head.class_agnostic': True})
        with self.assertRaises(CheckpointKeysError) as error:
            d2.convert_state_dict(state, model.state_dict())
        self.assertEqual(error.exception.mismatched, {
            f'roi_head.visible_mask_head.conv_logits.{p}':
            (f'roi_heads.mask_head.predictor.{p}', (6, ) + shape, (1, ) + shape)
            for p, shape in (('weight', (32, 1, 1)), ('bias', ()))})

    def test_model_zoo_pkl_into_amodal_mask_rcnn(self):
        state = authors.detectron2_state('mask_rcnn', seed=1)
        model = build('amodal_mrcnn', CAFFE)
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = osp.join(tmp, 'model_final.pkl'), osp.join(tmp, 'amodal.pth')
            authors.save_pkl(state, src)
            result = d2.convert_checkpoint(src, dst, config_path('amodal_mrcnn'), CAFFE)
            load_converted(model, dst)
        self.assertEqual((result.unused, result.zero_filled), ([], []))
        # FrozenBN keeps no step counter: every BatchNorm of the backbone gets one
        self.assertEqual(len(result.counters),
                         sum(k.endswith('num_batches_tracked') for k in model.state_dict()))
        x = roi_features(64)
        with torch.no_grad():
            torch.testing.assert_close(model.roi_head.mask_head(x),
                                       authors.mask_rcnn_logits(state, x))
        torch.testing.assert_close(model.backbone.layer3[1].conv2.weight,
                                   state['backbone.bottom_up.res4.1.conv2.weight'])
        torch.testing.assert_close(model.neck.fpn_convs[3].conv.bias,
                                   state['backbone.fpn_output5.bias'])
        torch.testing.assert_close(model.rpn_head.rpn_reg.weight,
                                   state['proposal_generator.rpn_head.anchor_deltas.weight'])


class TestBCNet(TestCase):

    def test_pkl_and_pth_give_the_authors_mask_logits(self):
        state = authors.detectron2_state('bcnet', seed=2)
        options = dict(CAFFE, **AUTHORS_WIDTH)
        x = roi_features(64)
        expected = authors_logits('bcnet', state, x)
        self.assertEqual(set(expected), set(BCNET_KINDS))
        for save in (authors.save_pkl, authors.save_pth):
            model = build('bcnet', options)
            with tempfile.TemporaryDirectory() as tmp:
                src, dst = osp.join(tmp, 'model_final' + save.__name__[-4:]), osp.join(tmp, 'b.pth')
                save(state, src)
                result = d2.convert_checkpoint(src, dst, config_path('bcnet'), options)
                load_converted(model, dst)
            self.assertEqual(result.architecture, 'bcnet')
            self.assertEqual(len(result.zero_filled), 6)  # g / theta / phi biases of two blocks
            assert_head_logits(model.roi_head.mask_head, x, expected, save.__name__)


class TestAISFormer(TestCase):
    """The authors' AISFormer has four query rows and a decoder without a final norm, as
    AISFormerMaskHead by default; a head with either difference computes another function and is
    refused by name."""

    @classmethod
    def setUpClass(cls):
        cls.options = dict(CAFFE, **AUTHORS_WIDTH)
        cls.state = authors.detectron2_state('aisformer', seed=6)

    def test_gives_the_authors_mask_logits(self):
        model = build('aisformer', self.options)
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = osp.join(tmp, 'model_final.pth'), osp.join(tmp, 'a.pth')
            authors.save_pth(self.state, src)
            result = d2.convert_checkpoint(src, dst, config_path('aisformer'), self.options)
            load_converted(model, dst)
        self.assertEqual(result.unused, ['roi_heads.mask_head.mask_head_model.predictor_TR.weight',
                                         'roi_heads.mask_head.mask_head_model.predictor_TR.bias'])
        x = roi_features(64)
        expected = authors_logits('aisformer', self.state, x)
        self.assertEqual(set(expected), set(AISFORMER_KINDS))
        assert_head_logits(model.roi_head.mask_head, x, expected)

    def test_another_structure_is_refused_by_name(self):
        for option, param, field in (
                ('extra_query', 'query_embed.weight', 'mismatched'),
                ('decoder_post_norm', 'decoder.post_norm.weight', 'missing')):
            value = option == 'decoder_post_norm'  # the value unlike the authors'
            model = build('aisformer',
                          dict(self.options, **{f'model.roi_head.mask_head.{option}': value}))
            with self.assertRaises(CheckpointKeysError, msg=option) as error:
                d2.convert_state_dict(self.state, model.state_dict())
            self.assertIn('roi_head.mask_head.' + param, getattr(error.exception, field), option)
            self.assertEqual((error.exception.unmapped, error.exception.unexpected), ([], {}))


class TestR50Names(TestCase):
    """The R-50 configs' names: a Detectron2 R-50-FPN BCNet of aistron's KINS 2020 (8 classes)
    into mmorcnn's 7-class KINS BCNet, by class name."""

    @classmethod
    def setUpClass(cls):
        cls.cfg = Config.fromfile(config_path('bcnet_r50_kins'))
        cls.cfg.merge_from_dict(CAFFE)
        cls.model = d2.build_model(cls.cfg).eval()
        cls.state = authors.detectron2_state('bcnet', depth=50, stem=64, fpn=256, fc=1024,
                                             num_classes=8, seed=3)

    def test_converts_by_class_name_and_loads_strictly(self):
        classes = d2.config_classes(self.cfg)
        result = d2.convert_state_dict(self.state, self.model.state_dict(), KINS2020, classes)
        self.model.load_state_dict(result.state_dict, strict=True)
        rows = [KINS2020.index(name) for name in classes]
        self.assertEqual(rows, [0, 1, 3, 4, 5, 6, 7])
        self.assertEqual(result.classes, list(zip(classes, rows)))
        fc_cls = self.state['roi_heads.box_predictor.cls_score.weight']
        torch.testing.assert_close(self.model.roi_head.bbox_head.fc_cls.weight,
                                   fc_cls[rows + [8]])  # the background stays last
        fc_reg = self.state['roi_heads.box_predictor.bbox_pred.weight'].reshape(8, 4, -1)
        torch.testing.assert_close(self.model.roi_head.bbox_head.fc_reg.weight,
                                   fc_reg[rows].flatten(0, 1))
        x = roi_features(256, num=2)
        expected = {kind: logits[:, rows]  # one output channel per class
                    for kind, logits in authors_logits('bcnet', self.state, x).items()}
        assert_head_logits(self.model.roi_head.mask_head, x, expected)

    def test_other_class_count_without_names_is_refused(self):
        with self.assertRaises(ClassMappingError) as error:
            d2.convert_state_dict(self.state, self.model.state_dict(),
                                  dst_classes=d2.config_classes(self.cfg))
        self.assertIn('8 classes', str(error.exception))
        self.assertIn('--src-classes', str(error.exception))

    def test_torchvision_preprocessing_is_refused(self):
        cfg = Config.fromfile(config_path('bcnet_r50_kins'))
        if cfg.model.backbone.get('style') == 'caffe':
            cfg.merge_from_dict({'model.backbone.style': 'pytorch'})
        with self.assertRaises(PreprocessingMismatchError) as error:
            d2.check_preprocessing(cfg, 'model_final.pkl', 'bcnet_r50_fpn_48k_kins.py')
        self.assertIn('model.backbone.style', str(error.exception))
        self.assertIn('model.backbone.style=caffe', str(error.exception))


class TestErrors(TestCase):
    """Each kind of misfit, named with the tensors."""

    @classmethod
    def setUpClass(cls):
        cls.target = build('amodal_mrcnn', CAFFE).state_dict()
        cls.state = authors.detectron2_state('mask_rcnn', seed=4)

    def convert(self, state, **kwargs):
        return d2.convert_state_dict(state, self.target, checkpoint='ck.pkl', config='cfg.py',
                                     **kwargs)

    def test_unmapped_source_tensor(self):
        state = dict(self.state, **{'roi_heads.mask_head.extra_conv.weight': torch.zeros(1)})
        with self.assertRaises(CheckpointKeysError) as error:
            self.convert(state)
        self.assertEqual(error.exception.unmapped, ['roi_heads.mask_head.extra_conv.weight'])
        self.assertIn('roi_heads.mask_head.extra_conv.weight', str(error.exception))

    def test_missing_target_tensor(self):
        state = {k: v for k, v in self.state.items() if 'mask_fcn3' not in k}
        with self.assertRaises(CheckpointKeysError) as error:
            self.convert(state)
        self.assertEqual(error.exception.missing, ['roi_head.mask_head.convs.2.conv.weight',
                                                   'roi_head.mask_head.convs.2.conv.bias'])

    def test_target_the_model_lacks(self):
        state = dict(self.state, **{'backbone.bottom_up.res5.9.conv1.weight': torch.zeros(1)})
        with self.assertRaises(CheckpointKeysError) as error:
            self.convert(state)
        self.assertEqual(error.exception.unexpected, {
            'backbone.bottom_up.res5.9.conv1.weight': 'backbone.layer4.9.conv1.weight'})

    def test_wrong_shape(self):
        state = dict(self.state)
        state['backbone.fpn_lateral2.weight'] = torch.zeros(64, 16, 1, 1)
        with self.assertRaises(CheckpointKeysError) as error:
            self.convert(state)
        self.assertEqual(error.exception.mismatched, {
            'neck.lateral_convs.0.conv.weight':
            ('backbone.fpn_lateral2.weight', (64, 16, 1, 1), (64, 32, 1, 1))})

    def test_class_names(self):
        state = authors.detectron2_state('mask_rcnn', num_classes=8, seed=4)
        with self.assertRaises(ClassMappingError) as error:
            self.convert(state)
        self.assertIn('--src-classes', str(error.exception))
        names = [f'c{i}' for i in range(6)]
        with self.assertRaises(ClassMappingError) as error:  # a config class it does not have
            self.convert(state, src_classes=[f'c{i}' for i in range(1, 9)], dst_classes=names)
        self.assertIn('c0', str(error.exception))
        result = self.convert(state, src_classes=['x', 'y'] + names, dst_classes=names[::-1])
        rows = [7, 6, 5, 4, 3, 2]
        self.assertEqual([row for _, row in result.classes], rows)
        torch.testing.assert_close(result.state_dict['roi_head.mask_head.conv_logits.weight'],
                                   state['roi_heads.mask_head.predictor.weight'][rows])

    def test_unknown_architecture_and_unsafe_pickle(self):
        state = {k: v for k, v in self.state.items() if 'mask_fcn1' not in k}
        with self.assertRaises(CheckpointConversionError) as error:
            self.convert(state)
        self.assertIn('no mask head of a known Detectron2 architecture', str(error.exception))
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, 'evil.pkl')
            with open(path, 'wb') as f:
                pickle.dump({'model': {'x': subprocess.Popen}}, f)
            with self.assertRaises(CheckpointConversionError) as error:
                d2.load_detectron2_checkpoint(path)
        self.assertIn('subprocess.Popen', str(error.exception))
