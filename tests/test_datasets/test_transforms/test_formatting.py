import numpy as np
import pytest
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks


class TestPackAmodalDetInputs:

    def test_three_masks_go_to_gt_instances_and_crowds_to_ignored(self, loaded_results, scene):
        pack = TRANSFORMS.build(dict(type='PackAmodalDetInputs'))
        sample = pack(loaded_results())['data_samples']
        for instances, ann_ids in ((sample.gt_instances, (1, 2)),
                                   (sample.ignored_instances, (3, ))):
            assert len(instances) == len(ann_ids)
            for key, part in (('masks', 'amodal'), ('visible_masks', 'visible'),
                              ('invisible_masks', 'invisible')):
                assert type(instances[key]) is BitmapMasks
                np.testing.assert_array_equal(instances[key].masks,
                                              [scene[i][part] for i in ann_ids])
        np.testing.assert_array_equal(sample.gt_instances.labels.numpy(), [0, 1])

    def test_without_ignore_flags_all_instances_are_ground_truth(self, loaded_results):
        results = loaded_results()
        del results['gt_ignore_flags']
        sample = TRANSFORMS.build(dict(type='PackAmodalDetInputs'))(results)['data_samples']
        assert len(sample.gt_instances.visible_masks) == 3
        assert len(sample.gt_instances.invisible_masks) == 3

    def test_masks_that_lost_their_parts_are_refused(self, loaded_results):
        results = loaded_results()
        results['gt_masks'] = results['gt_masks'].amodal
        with pytest.raises(TypeError, match='lost the visible and invisible masks'):
            TRANSFORMS.build(dict(type='PackAmodalDetInputs'))(results)
