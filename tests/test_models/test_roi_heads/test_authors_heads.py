"""mmorcnn's AISFormer and BCNet mask heads against the authors' heads (re-implemented in
tests/test_models/authors_heads.py from their code, with the recorded Detectron2 names and
shapes): with the same random weights, carried over by those names, the same mask logits on the
same RoI features."""
import re
from typing import Dict
from unittest import TestCase

import torch
from torch import Tensor

from mmdet.registry import MODELS

import mmorcnn  # noqa: F401
from ..authors_heads import (AuthorsAISFormer, AuthorsBCNet, aisformer_params, bcnet_params,
                             randomized)

DIMS, CLASSES, FFN = 32, 3, 64


def _aisformer_to_mmorcnn(state: Dict[str, Tensor], size: int = 28) -> Dict[str, Tensor]:
    """The authors' AISFormer parameters under mmorcnn's names (``predictor_TR``, unused by
    their forward, left out; the positional embeddings cut to the RoI's ``size`` rows)."""
    renames = [(r'^mask_feat_learner_TR\.', 'convs.0.conv.'),
               (r'^deconv_for_TR\.0\.', 'upsample.'),
               (r'^norm_rois\.', 'pixel_norm.'), (r'^subtract_model\.', 'invisible_embed.'),
               (r'^transformer_encoder\.', 'encoder.'), (r'^transformer_decoder\.', 'decoder.'),
               (r'\.self_attn\.', '.self_attn.attn.'),
               (r'\.multihead_attn\.', '.cross_attn.attn.'),
               (r'\.linear1\.', '.ffn.layers.0.0.'), (r'\.linear2\.', '.ffn.layers.1.'),
               (r'\.norm1\.', '.norms.0.'), (r'\.norm2\.', '.norms.1.'),
               (r'\.norm3\.', '.norms.2.')]
    out = {}
    for name, value in state.items():
        if name.startswith('predictor_TR.'):
            continue
        if name.startswith('positional_encoding.'):
            value = value[:size]
        for pattern, repl in renames:
            name = re.sub(pattern, repl, name)
        out[name] = value
    return out


def _bcnet_to_mmorcnn(state: Dict[str, Tensor], num_convs: int = 4) -> Dict[str, Tensor]:
    """The authors' BCNet parameters under mmorcnn's names; mmcv's non-local projections have
    biases, zero here (the authors' have none)."""
    names = dict(deconv='upsample', predictor='conv_logits',
                 boundary_deconv='outputs.amodal_boundary.0',
                 boundary_predictor='outputs.amodal_boundary.2', bo_deconv='outputs.occluder.0',
                 predictor_bo='outputs.occluder.2',
                 boundary_deconv_bo='outputs.occluder_boundary.0',
                 boundary_predictor_bo='outputs.occluder_boundary.2')
    for i in range(1, num_convs + 1):
        names.update({f'mask_fcn{i}': f'convs.{i - 1}.conv',
                      f'boundary_fcn{i}': f'occluder_convs.{i - 1}.conv'})
    for suffix, block in (('bound_bo', 'occluder_nonlocal'), ('bound', 'occludee_nonlocal')):
        names.update({f'query_transform_{suffix}': f'{block}.theta.conv',
                      f'key_transform_{suffix}': f'{block}.phi.conv',
                      f'value_transform_{suffix}': f'{block}.g.conv',
                      f'output_transform_{suffix}': f'{block}.conv_out.conv',
                      f'blocker_{suffix}': f'{block}.conv_out.bn'})
    out = {}
    for name, value in state.items():
        module, param = name.rsplit('.', 1)
        out[f'{names[module]}.{param}'] = value
    for block in ('occluder_nonlocal', 'occludee_nonlocal'):
        for proj in ('theta', 'phi', 'g'):
            weight = out[f'{block}.{proj}.conv.weight']
            out[f'{block}.{proj}.conv.bias'] = weight.new_zeros(weight.shape[0])
    return out


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
        head.load_state_dict(_aisformer_to_mmorcnn(authors.state_dict()), strict=True)
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
        head.load_state_dict(_bcnet_to_mmorcnn(authors.state_dict()), strict=True)
        x = torch.randn(4, DIMS, 14, 14, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            expected = dict(zip(('amodal', 'amodal_boundary', 'occluder', 'occluder_boundary'),
                                authors(x)))
            logits = head(x)
        for kind, value in expected.items():
            torch.testing.assert_close(head.logits_of(logits, kind), value, msg=kind,
                                       rtol=1e-4, atol=1e-4)
