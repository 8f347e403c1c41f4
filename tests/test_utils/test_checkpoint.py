"""Checkpoints written by mmengine load under torch's weights_only=True default, nothing more."""
import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmorcnn  # noqa: F401  (allow-lists mmengine's checkpoint contents)


class _AttributeGrab:
    """Pickles as getattr(HistoryBuffer, name): what a crafted checkpoint could try."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self):
        return getattr, (HistoryBuffer, self.name)


def _mmengine_like_checkpoint() -> dict:
    hub = MessageHub.get_instance('mmorcnn_checkpoint_test')
    for value in (3.0, 2.5, 2.0):
        hub.update_scalar('train/loss', value)
    return dict(
        meta=dict(iter=3, seed=np.int64(7), dataset_meta=dict(classes=('a', 'b'))),
        state_dict={'w': torch.ones(2)},
        message_hub=hub.state_dict(),
        param_schedulers=[dict(base_lrs=[0.02], last_step=3)])


class TestCheckpointLoading:

    def test_runner_style_checkpoint_loads_with_weights_only(self, tmp_path):
        path = tmp_path / 'ckpt.pth'
        torch.save(_mmengine_like_checkpoint(), path)
        state = torch.load(path, map_location='cpu')  # torch's default: weights_only=True
        buffer = state['message_hub']['log_scalars']['train/loss']
        assert isinstance(buffer, HistoryBuffer)
        assert buffer.mean() == pytest.approx(2.5)
        assert buffer.statistics('current') == pytest.approx(2.0)
        assert state['meta']['seed'] == 7

    def test_statistics_methods_are_the_only_attributes_a_checkpoint_may_fetch(self, tmp_path):
        ok = tmp_path / 'ok.pth'
        torch.save({'m': _AttributeGrab('mean')}, ok)
        assert torch.load(ok)['m'] is HistoryBuffer.mean

        crafted = tmp_path / 'crafted.pth'
        torch.save({'x': _AttributeGrab('__init__')}, crafted)
        with pytest.raises(Exception, match='statistics methods of mmengine HistoryBuffer'):
            torch.load(crafted)

    def test_arbitrary_globals_stay_forbidden(self, tmp_path):
        path = tmp_path / 'evil.pth'
        torch.save({'f': np.load}, path)
        with pytest.raises(Exception, match='Unsupported global'):
            torch.load(path)
