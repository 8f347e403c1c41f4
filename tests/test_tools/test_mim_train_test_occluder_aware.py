"""`mim train mmorcnn` / `mim test mmorcnn` of the tiny configs of the occluder-aware methods
(AISFormer, BCNet) by their basenames: their occluder targets reach the head, and their tests
give every amodal key."""
import math
import os.path as osp

import pytest
import torch

from .test_mim_train_test import (AMODAL_KEYS, MIM, _data_options, _mim,  # noqa: F401
                                  assert_mim_test_gives_amodal_keys, tiny_data)

# per method: its tiny config, the mask losses its training logs, parameters of its mask head
METHODS = {
    'aisformer': dict(
        config='aisformer_r18_fpn_tiny_synthetic.py',
        losses=('loss_amodal_mask', 'loss_visible_mask', 'loss_occluder_mask',
                'loss_invisible_mask'),
        params=('roi_head.mask_head.query_embed.weight',
                'roi_head.mask_head.encoder.layers.0.self_attn.attn.in_proj_weight')),
    'bcnet': dict(
        config='bcnet_r18_fpn_tiny_synthetic.py',
        losses=('loss_amodal_mask', 'loss_amodal_boundary', 'loss_occluder_mask',
                'loss_occluder_boundary'),
        params=('roi_head.mask_head.occluder_convs.0.conv.weight',
                'roi_head.mask_head.occluder_nonlocal.g.conv.weight',
                'roi_head.mask_head.outputs.occluder.2.weight')),
}


@pytest.fixture(scope='module', params=sorted(METHODS))
def trained(request, tiny_data, tmp_path_factory):  # noqa: F811
    """Two training iterations of a method through `mim train`, checkpoint at iteration 2."""
    method = METHODS[request.param]
    work_dir = str(tmp_path_factory.mktemp(f'work_{request.param}'))
    proc = _mim('train', 'mmorcnn', method['config'], '--work-dir', work_dir, '--cfg-options',
                *_data_options(tiny_data), 'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
                'default_hooks.checkpoint.interval=2', cwd=work_dir)
    return method, work_dir, proc.stdout + proc.stderr


@pytest.mark.skipif(MIM is None, reason='openmim is not installed')
class TestMimTrainTestOccluderAware:

    def test_mim_train_logs_the_mask_losses_and_saves_the_head(self, trained):
        method, work_dir, log = trained
        iteration_lines = [line for line in log.splitlines() if 'Iter(train) [2/2]' in line]
        assert iteration_lines, log[-2000:]
        for key in method['losses']:
            value = iteration_lines[-1].split(f'{key}: ')[1].split()[0]
            assert math.isfinite(float(value)), (key, value)
        state = torch.load(osp.join(work_dir, 'iter_2.pth'), map_location='cpu')
        for param in method['params']:
            assert param in state['state_dict'], param

    def test_mim_test_evaluates_with_the_amodal_metric(self, trained, tiny_data,
                                                        tmp_path):  # noqa: F811
        method, work_dir, _ = trained
        metrics = assert_mim_test_gives_amodal_keys(
            method['config'], osp.join(work_dir, 'iter_2.pth'), tiny_data, str(tmp_path),
            AMODAL_KEYS + ('amodal/order_acc', ))
        assert all(math.isfinite(metrics[k]) for k in AMODAL_KEYS)
