"""The authors' AISFormer and BCNet mask heads as re-implemented for the tests
(tests/test_models/authors_heads.py): their parameters are the recorded Detectron2 names and
shapes."""
from unittest import TestCase

from ..authors_heads import AuthorsAISFormer, AuthorsBCNet, aisformer_params, bcnet_params

DIMS, CLASSES, FFN = 32, 3, 64


class TestAuthorsHeadsRecordedParameters(TestCase):

    def test_modules_have_the_recorded_names_and_shapes(self):
        for module, params in ((AuthorsAISFormer(DIMS, CLASSES, ffn=FFN),
                                aisformer_params(DIMS, CLASSES, FFN)),
                               (AuthorsBCNet(DIMS, DIMS, CLASSES), bcnet_params(DIMS, DIMS,
                                                                                CLASSES))):
            self.assertEqual({k: tuple(v.shape) for k, v in module.state_dict().items()}, params)
