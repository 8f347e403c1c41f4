"""`mim train mmorcnn` / `mim test mmorcnn` of the tiny AISFormer config by its basename: its
occluder targets reach the head, and its test gives every amodal key."""
import os.path as osp

import pytest
import torch

from .test_mim_train_test import (AMODAL_KEYS, MIM, _data_options, _mim,  # noqa: F401
                                  assert_mim_test_gives_amodal_keys, tiny_data)

CONFIG = 'aisformer_r18_fpn_tiny_synthetic.py'
MASK_LOSSES = ('loss_amodal_mask', 'loss_visible_mask', 'loss_occluder_mask',
               'loss_invisible_mask')


@pytest.fixture(scope='module')
def trained(tiny_data, tmp_path_factory):  # noqa: F811
    """Two training iterations through `mim train`, checkpoint at iteration 2."""
    work_dir = str(tmp_path_factory.mktemp('work'))
    proc = _mim('train', 'mmorcnn', CONFIG, '--work-dir', work_dir, '--cfg-options',
                *_data_options(tiny_data), 'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
                'default_hooks.checkpoint.interval=2', cwd=work_dir)
    return work_dir, proc.stdout + proc.stderr


@pytest.mark.skipif(MIM is None, reason='openmim is not installed')
class TestMimTrainTestAISFormer:

    def test_mim_train_logs_the_four_mask_losses_and_saves_the_head(self, trained):
        work_dir, log = trained
        iteration_lines = [line for line in log.splitlines() if 'Iter(train) [2/2]' in line]
        assert iteration_lines, log[-2000:]
        for key in MASK_LOSSES:
            assert f'{key}: ' in iteration_lines[-1], key
        state = torch.load(osp.join(work_dir, 'iter_2.pth'), map_location='cpu')
        assert 'roi_head.mask_head.query_embed.weight' in state['state_dict']
        assert 'roi_head.mask_head.encoder.layers.0.self_attn.attn.in_proj_weight' in \
            state['state_dict']

    def test_mim_test_evaluates_aisformer_with_the_amodal_metric(
            self, trained, tiny_data, tmp_path):  # noqa: F811
        work_dir, _ = trained
        assert_mim_test_gives_amodal_keys(CONFIG, osp.join(work_dir, 'iter_2.pth'), tiny_data,
                                          str(tmp_path), AMODAL_KEYS + ('amodal/order_acc', ))
