"""Layers of mmorcnn's heads, registered into mmdet's MODELS registry on import."""
from .transformer import (MultiheadAttentionWithoutWeights, RoITransformerDecoder,
                          RoITransformerDecoderLayer, RoITransformerEncoder,
                          RoITransformerEncoderLayer)

__all__ = [
    'MultiheadAttentionWithoutWeights', 'RoITransformerDecoder', 'RoITransformerDecoderLayer',
    'RoITransformerEncoder', 'RoITransformerEncoderLayer'
]
