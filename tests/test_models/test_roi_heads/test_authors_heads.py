"""mmorcnn's AISFormer and BCNet mask heads against the authors' heads (re-implemented in
tests/test_models/authors_heads.py from their code, with the recorded Detectron2 names and
shapes): with the same random weights, carried over by those names with the checkpoint
converter's mapping (mmorcnn.models.detectron2_to_mmorcnn), the same mask logits on the same RoI
features."""
from unittest import TestCase

import torch
from torch import nn

from mmdet.registry import MODELS

import mmorcnn  # noqa: F401
from mmorcnn.models.detectron2_to_mmorcnn import convert_state_dict
from ..authors_heads import (AISFORMER_PREFIX, BCNET_PREFIX, AuthorsAISFormer, AuthorsBCNet,
                             aisformer_params, bcnet_params, randomized)

DIMS, CLASSES, FFN = 32, 3, 64
#: The prefix of the mask head's names in an mmorcnn model.
HEAD = 'roi_head.mask_head.'


def load_converted(head: nn.Module, authors: nn.Module, prefix: str) -> nn.Module:
    """``head`` with the authors' head's weights, carried over by their Detectron2 names (under
    ``prefix``) with the checkpoint converter's mapping, loaded with ``strict=True``."""
    state = {prefix + name: value for name, value in authors.state_dict().items()}
    target = {HEAD + name: value for name, value in head.state_dict().items()}
    converted = convert_state_dict(state, target).state_dict
    head.load_state_dict({name[len(HEAD):]: value for name, value in converted.items()},
                         strict=True)
    return head


class TestAuthorsHeadsRecordedParameters(TestCase):

    def test_modules_have_the_recorded_names_and_shapes(self):
        for module, params in ((AuthorsAISFormer(DIMS, CLASSES, ffn=FFN),
                                aisformer_params(DIMS, CLASSES, FFN)),
                               (AuthorsBCNet(DIMS, DIMS, CLASSES), bcnet_params(DIMS, DIMS,
                                                                                CLASSES))):
            self.assertEqual({k: tuple(v.shape) for k, v in module.state_dict().items()}, params)


class TestSameLogitsAsTheAuthorsHeads(TestCase):

    def test_aisformer(self):
        authors = randomized(AuthorsAISFormer(DIMS, CLASSES, ffn=FFN), seed=0).eval()
        head = MODELS.build(dict(type='AISFormerMaskHead', in_channels=DIMS,
                                 conv_out_channels=DIMS, feedforward_channels=FFN,
                                 num_classes=CLASSES)).eval()
        load_converted(head, authors, AISFORMER_PREFIX)
        x = torch.randn(5, DIMS, 14, 14, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            visible, occluder, amodal, invisible = authors(x)
            logits = head(x)
        for kind, expected in (('visible', visible), ('occluder', occluder),
                               ('amodal', amodal), ('invisible', invisible)):
            torch.testing.assert_close(head.logits_of(logits, kind), expected, msg=kind,
                                       rtol=1e-4, atol=1e-4)

    def test_bcnet(self):
        authors = randomized(AuthorsBCNet(DIMS, DIMS, CLASSES), seed=2).eval()
        head = MODELS.build(dict(type='BCNetMaskHead', in_channels=DIMS, conv_out_channels=DIMS,
                                 num_classes=CLASSES)).eval()
        load_converted(head, authors, BCNET_PREFIX)
        x = torch.randn(4, DIMS, 14, 14, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            expected = dict(zip(('amodal', 'amodal_boundary', 'occluder', 'occluder_boundary'),
                                authors(x)))
            logits = head(x)
        for kind, value in expected.items():
            torch.testing.assert_close(head.logits_of(logits, kind), value, msg=kind,
                                       rtol=1e-4, atol=1e-4)
