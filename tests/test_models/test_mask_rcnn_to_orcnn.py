"""mmorcnn.models.mask_rcnn_to_orcnn (tools/model_converters/mask_rcnn_to_orcnn.py) on a Mask R-CNN
checkpoint the test makes itself."""
import os.path as osp
import subprocess
import sys
import tempfile
from unittest import TestCase

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmdet.registry import MODELS

import mmorcnn  # noqa: F401
from mmorcnn.models import mask_rcnn_to_orcnn
from mmorcnn.visualization import unused_visualizer_name

ROOT = osp.join(osp.dirname(__file__), '..', '..')
TOOL = osp.join(ROOT, 'tools', 'model_converters', 'mask_rcnn_to_orcnn.py')
MASK_RCNN_CONFIG = osp.join(ROOT, 'configs', 'amodal_mask_rcnn',
                            'amodal-mask-rcnn_r18_fpn_tiny_synthetic.py')
ORCNN_CONFIG = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
CLASS_SPECIFIC = ('roi_head.bbox_head.fc_cls.', 'roi_head.bbox_head.fc_reg.',
                  'roi_head.mask_head.conv_logits.', 'roi_head.visible_mask_head.conv_logits.')


def _mask_rcnn_state(num_classes: int) -> dict:
    """A randomly initialised Mask R-CNN (mmdet's MaskRCNN, ResNet-18) of ``num_classes``."""
    cfg = Config.fromfile(MASK_RCNN_CONFIG).model
    cfg.roi_head.bbox_head.num_classes = num_classes
    cfg.roi_head.mask_head.num_classes = num_classes
    torch.manual_seed(1)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.state_dict()


def _orcnn_runner(work_dir: str, load_from: str, class_agnostic: bool = False) -> Runner:
    cfg = Config.fromfile(ORCNN_CONFIG)
    cfg.model.roi_head.mask_head.class_agnostic = class_agnostic
    cfg.work_dir = work_dir
    cfg.load_from = load_from
    # mmengine's own Runner (loading without AmodalRunner's checks) would hand back the
    # visualizer an earlier run of the process registered under the config's name
    cfg.visualizer.name = unused_visualizer_name(cfg.visualizer.name)
    return Runner.from_cfg(cfg)


class TestMaskRcnnToOrcnn(TestCase):

    @classmethod
    def setUpClass(cls):
        cls.coco_like = _mask_rcnn_state(num_classes=80)  # another class set than the 6 synthetic

    def test_mask_head_initialises_amodal_and_visible_heads(self):
        converted, _ = mask_rcnn_to_orcnn.convert(self.coco_like)
        for key, value in self.coco_like.items():
            torch.testing.assert_close(converted[key], value)
            if key.startswith('roi_head.mask_head.'):
                visible = key.replace('roi_head.mask_head.', 'roi_head.visible_mask_head.')
                torch.testing.assert_close(converted[visible], value)

    def test_copy_mask_head_copies_one_head_into_another(self):
        state = {'roi_head.mask_head.convs.0.conv.weight': torch.ones(2, 2),
                 'roi_head.mask_headx.weight': torch.zeros(1), 'backbone.weight': torch.zeros(1)}
        out = mask_rcnn_to_orcnn.copy_mask_head(state)
        self.assertIs(out, state)  # in place
        self.assertEqual(set(out) - {'roi_head.mask_head.convs.0.conv.weight',
                                     'roi_head.mask_headx.weight', 'backbone.weight'},
                         {'roi_head.visible_mask_head.convs.0.conv.weight'})
        copied = out['roi_head.visible_mask_head.convs.0.conv.weight']
        torch.testing.assert_close(copied, torch.ones(2, 2))
        copied += 1  # a copy, not the same tensor
        torch.testing.assert_close(state['roi_head.mask_head.convs.0.conv.weight'],
                                   torch.ones(2, 2))
        other = mask_rcnn_to_orcnn.copy_mask_head({'a.w': torch.ones(1)}, src='a.', dst='b.')
        self.assertEqual(set(other), {'a.w', 'b.w'})

    def test_class_specific_layers_are_dropped_when_the_class_count_differs(self):
        _, dropped = mask_rcnn_to_orcnn.convert(self.coco_like, num_classes=6)
        self.assertEqual({key.rsplit('.', 1)[0] + '.' for key in dropped}, set(CLASS_SPECIFIC[:3]))
        _, dropped = mask_rcnn_to_orcnn.convert(self.coco_like, num_classes=80)
        self.assertEqual(dropped, [])

    def test_class_agnostic_target_drops_the_mask_predictors(self):
        converted, dropped = mask_rcnn_to_orcnn.convert(self.coco_like, class_agnostic_mask=True)
        self.assertEqual(dropped, ['roi_head.mask_head.conv_logits.bias',
                                   'roi_head.mask_head.conv_logits.weight'])
        self.assertNotIn('roi_head.visible_mask_head.conv_logits.weight', converted)

    def test_baselines_keep_a_single_mask_head(self):
        converted, _ = mask_rcnn_to_orcnn.convert(self.coco_like, num_classes=6, visible_head=False)
        self.assertFalse(any(key.startswith('roi_head.visible_mask_head.') for key in converted))

    def test_refuses_what_is_not_a_mask_rcnn(self):
        no_mask = {k: v for k, v in self.coco_like.items() if 'mask_head' not in k}
        with self.assertRaises(KeyError):
            mask_rcnn_to_orcnn.convert(no_mask)
        converted, _ = mask_rcnn_to_orcnn.convert(self.coco_like)
        with self.assertRaises(ValueError):
            mask_rcnn_to_orcnn.convert(converted)

    def test_load_from_the_converted_checkpoint(self):
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = osp.join(tmp, 'mask_rcnn.pth'), osp.join(tmp, 'orcnn.pth')
            torch.save(dict(meta=dict(dataset_meta=dict(classes=[str(i) for i in range(80)])),
                            state_dict=self.coco_like), src)
            subprocess.run([sys.executable, TOOL, src, dst, '--num-classes', '6'], check=True,
                           capture_output=True)

            runner = _orcnn_runner(osp.join(tmp, 'work_dir'), dst)
            initial = {k: v.clone() for k, v in runner.model.state_dict().items()}
            runner.load_or_resume()
            loaded = runner.model.state_dict()

        for key, value in loaded.items():
            prefix = key.rsplit('.', 1)[0] + '.'
            if prefix in CLASS_SPECIFIC:  # re-initialised: the model keeps its own init
                torch.testing.assert_close(value, initial[key], msg=key)
                continue
            source = 'roi_head.' + key[len('roi_head.visible_'):] if key.startswith(
                'roi_head.visible_mask_head.') else key
            torch.testing.assert_close(value, self.coco_like[source], msg=key)
