"""The transformer layers of AISFormer's mask head (mmorcnn.models.layers)."""
from unittest import TestCase

import torch
from mmcv.cnn.bricks.transformer import MultiheadAttention

from mmdet.registry import MODELS

import mmorcnn  # noqa: F401
from mmorcnn.models.layers import (MultiheadAttentionWithoutWeights, RoITransformerDecoder,
                                   RoITransformerEncoder)


def _attention(batch_first: bool, type='MultiheadAttentionWithoutWeights', seed=0, **kwargs):
    torch.manual_seed(seed)
    return MODELS.build(dict(type=type, embed_dims=8, num_heads=2, batch_first=batch_first,
                             **kwargs)).eval()


class TestMultiheadAttentionWithoutWeights(TestCase):

    def test_bit_for_bit_a_plain_torch_attention_without_weights(self):
        """mmcv's positional encodings and identity around torch's attention called with
        need_weights=False on the same parameters: the same bits."""
        gen = torch.Generator().manual_seed(0)
        for batch_first in (True, False):
            module = _attention(batch_first)
            plain = torch.nn.MultiheadAttention(8, 2)
            plain.load_state_dict(module.attn.state_dict())
            plain.eval()
            query, query_pos = torch.randn(2, 3, 5, 8, generator=gen)
            key, key_pos = torch.randn(2, 3, 7, 8, generator=gen)
            value = torch.randn(3, 7, 8, generator=gen)
            if not batch_first:  # (n, batch, embed_dims)
                query, query_pos, key, key_pos, value = (
                    t.transpose(0, 1) for t in (query, query_pos, key, key_pos, value))
            mask = torch.zeros(3, 7, dtype=torch.bool)
            mask[1, 4:] = True
            with torch.no_grad():
                got = module(query, key, value, query_pos=query_pos, key_pos=key_pos,
                             key_padding_mask=mask)
                q, k, v = query + query_pos, key + key_pos, value
                if batch_first:
                    q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
                out = plain(q, k, v, key_padding_mask=mask, need_weights=False)[0]
                expected = query + (out.transpose(0, 1) if batch_first else out)
            self.assertTrue(torch.equal(got, expected), batch_first)

    def test_same_outputs_as_mmcv_attention_with_the_same_parameters(self):
        x = torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(1))
        without = _attention(True)
        mmcv = _attention(True, type='MultiheadAttention')
        self.assertIs(type(mmcv), MultiheadAttention)
        mmcv.load_state_dict(without.state_dict())  # the same parameter names
        with torch.no_grad():
            torch.testing.assert_close(without(x), mmcv(x))

    def test_weights_only_when_asked(self):
        attn = _attention(False).attn
        x = torch.randn(4, 2, 8)
        with torch.no_grad():
            self.assertIsNone(attn(x, x, x)[1])
            self.assertEqual(attn(x, x, x, need_weights=True)[1].shape, (2, 4, 4))

    def test_attention_dropout_and_mmcv_arguments(self):
        module = _attention(True, attn_drop=0.3, proj_drop=0.1,
                            dropout_layer=dict(type='Dropout', drop_prob=0.2))
        self.assertEqual(module.attn.dropout, 0.3)
        self.assertEqual((module.proj_drop.p, module.dropout_layer.p), (0.1, 0.2))
        self.assertIsInstance(module, MultiheadAttention)


class TestRoITransformer(TestCase):

    @staticmethod
    def _layer_cfg(attn_type: str, decoder: bool) -> dict:
        attention = dict(type=attn_type, embed_dims=8, num_heads=2)
        cfg = dict(self_attn_cfg=dict(attention),
                   ffn_cfg=dict(embed_dims=8, feedforward_channels=16))
        if decoder:
            cfg['cross_attn_cfg'] = dict(attention)
        return cfg

    def test_attention_of_the_config_type(self):
        for attn_type, cls in (('MultiheadAttentionWithoutWeights',
                                MultiheadAttentionWithoutWeights),
                               ('MultiheadAttention', MultiheadAttention)):
            encoder = RoITransformerEncoder(2, self._layer_cfg(attn_type, False))
            decoder = RoITransformerDecoder(1, self._layer_cfg(attn_type, True),
                                            return_intermediate=False)
            for layer in (*encoder.layers, *decoder.layers):
                for name in ('self_attn', 'cross_attn'):
                    if hasattr(layer, name):
                        self.assertIs(type(getattr(layer, name)), cls, (attn_type, name))

    def test_decoder_final_norm_is_optional(self):
        cfg = self._layer_cfg('MultiheadAttention', True)
        with_norm = RoITransformerDecoder(1, cfg, return_intermediate=False)
        without = RoITransformerDecoder(1, cfg, post_norm_cfg=None, return_intermediate=False)
        with torch.no_grad():  # a final norm that is no identity on normalised inputs
            with_norm.post_norm.weight.uniform_(0.5, 2.0)
            with_norm.post_norm.bias.uniform_(-1.0, 1.0)
        self.assertIsInstance(with_norm.post_norm, torch.nn.LayerNorm)
        self.assertFalse([k for k in without.state_dict() if k.startswith('post_norm')])
        without.load_state_dict({k: v for k, v in with_norm.state_dict().items()
                                 if not k.startswith('post_norm')})
        query, pos = torch.randn(2, 3, 4, 8)
        memory, memory_pos = torch.randn(2, 3, 9, 8)
        args = dict(key=memory, value=memory, query_pos=pos, key_pos=memory_pos,
                    key_padding_mask=None)
        with torch.no_grad():
            raw = without.eval()(query, **args)
            normed = with_norm.eval()(query, **args)
        torch.testing.assert_close(normed, with_norm.post_norm(raw))
        self.assertFalse(torch.allclose(raw, normed))
