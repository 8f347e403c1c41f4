"""checkpoint_fit / check_checkpoint_fits: what of a checkpoint does not fit a model, by module."""
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmorcnn  # noqa: F401
from mmorcnn.engine import CheckpointMismatchError, check_checkpoint_fits, checkpoint_fit

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ORCNN = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
AMODAL_MRCNN = osp.join(ROOT, 'configs', 'amodal_mask_rcnn',
                        'amodal-mask-rcnn_r18_fpn_tiny_synthetic.py')


def _model(config: str, **roi_head):
    init_default_scope('mmdet')
    cfg = Config.fromfile(config)
    cfg.model.roi_head.update(roi_head)
    return MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def orcnn():
    return _model(ORCNN)


@pytest.fixture(scope='module')
def amodal_mrcnn():
    return _model(AMODAL_MRCNN)


class TestCheckpointFit:

    def test_own_checkpoint_fits(self, orcnn):
        fit = checkpoint_fit(orcnn, dict(state_dict=orcnn.state_dict()))
        assert fit.fits and not fit.unused_modules

    def test_amodal_mrcnn_checkpoint_lacks_the_visible_head_of_orcnn(self, orcnn, amodal_mrcnn):
        fit = checkpoint_fit(orcnn, dict(state_dict=amodal_mrcnn.state_dict()))
        assert not fit.fits
        assert list(fit.missing) == ['roi_head.visible_mask_head']
        assert not fit.shape_mismatch and not fit.unexpected

    def test_orcnn_checkpoint_for_amodal_mrcnn_loads_every_weight(self, orcnn, amodal_mrcnn):
        """The model's weights are all there; the extra head is only reported."""
        fit = checkpoint_fit(amodal_mrcnn, dict(state_dict=orcnn.state_dict()))
        assert fit.fits
        assert list(fit.unused_modules) == ['roi_head.visible_mask_head']

    def test_class_count_mismatch_names_the_class_counts(self, orcnn):
        three = _model(ORCNN, bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3))
        fit = checkpoint_fit(orcnn, dict(state_dict=three.state_dict()))
        keys = {key for key, _, _ in fit.shape_mismatch}
        assert {'roi_head.bbox_head.fc_cls.weight', 'roi_head.mask_head.conv_logits.weight',
                'roi_head.visible_mask_head.conv_logits.weight'} <= keys
        text = fit.describe()
        assert 'checkpoint 3 classes, model 6' in text

    def test_wrapped_model_keys_are_revised_as_by_mmengine(self, orcnn):
        state = {f'module.{k}': v for k, v in orcnn.state_dict().items()}
        assert checkpoint_fit(orcnn, state).fits


class TestCheckCheckpointFits:

    def test_error_lists_the_modules_and_how_to_proceed(self, orcnn, amodal_mrcnn):
        with pytest.raises(CheckpointMismatchError) as info:
            check_checkpoint_fits(orcnn, dict(state_dict=amodal_mrcnn.state_dict()),
                                  'amodal.pth', 'testing')
        message = str(info.value)
        assert 'amodal.pth' in message and 'roi_head.visible_mask_head' in message
        assert 'mask_rcnn_to_orcnn.py' in message and 'allow_partial_checkpoint=True' in message

    def test_opt_out_warns_instead(self, orcnn, amodal_mrcnn, caplog):
        fit = check_checkpoint_fits(orcnn, dict(state_dict=amodal_mrcnn.state_dict()),
                                    'amodal.pth', 'testing', allow_partial=True)
        assert not fit.fits

    def test_partial_weights_of_a_module_are_a_mismatch(self, orcnn):
        """A head whose checkpoint has other layers than the model's (another architecture)."""
        state = dict(orcnn.state_dict())
        state['roi_head.mask_head.extra_conv.weight'] = torch.zeros(1)
        with pytest.raises(CheckpointMismatchError, match='roi_head.mask_head'):
            check_checkpoint_fits(orcnn, state, 'x.pth', 'inference')
