"""Table 5 statistics of a canonical dataset, on a fixture with known answers."""
import json

import pytest

from mmorcnn.datasets.statistics import (OcclusionStatistics, dataset_statistics,
                                         occlusion_statistics, table5_rows)
from mmorcnn.structures.mask_utils import mask_to_rle
from mmorcnn.structures.occlusion_levels import PARTIAL_MAX

from .amodal_scene import HEIGHT, WIDTH, rect



def ann(ann_id, image_id, invisible_rows, iscrowd=0, x=0):
    """A 4x4 object at column ``x`` whose first ``invisible_rows`` rows are hidden, so its
    occlusion rate is invisible_rows / 4; no ``occlude_rate`` field: it follows from the masks."""
    amodal = rect(0, 4, x, x + 4)
    invisible = rect(0, invisible_rows, x, x + 4)
    out = dict(id=ann_id, image_id=image_id, category_id=1, iscrowd=iscrowd,
               segmentation=mask_to_rle(amodal))
    if invisible_rows:
        out['visible_mask'] = mask_to_rle(amodal & (1 - invisible))
    return out


@pytest.fixture
def ann_file(tmp_path):
    """Image 1: rates 0 and 0.5; image 2: 0.25, 0 and a 0.75-occluded crowd region; image 3:
    unoccluded; image 4: empty."""
    anns = [ann(1, 1, 0), ann(2, 1, 2, x=10), ann(3, 2, 1), ann(4, 2, 0, x=10),
            ann(5, 2, 3, iscrowd=1, x=20), ann(6, 3, 0)]
    data = dict(images=[dict(id=i, file_name=f'{i}.png', height=HEIGHT, width=WIDTH)
                        for i in (1, 2, 3, 4)],
                annotations=anns, categories=[dict(id=1, name='thing')])
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(data))
    return str(path)


def in_memory(ann_file):
    """The fixture's file as a dict, with the rates the loader derives from its masks."""
    with open(ann_file) as f:
        data = json.load(f)
    for ann in data['annotations']:
        ann['occlude_rate'] = [0, .5, .25, 0, .75, 0][ann['id'] - 1]
    return data


KNOWN = OcclusionStatistics(num_images=4, num_images_occluded=2, num_objects=5,
                            num_objects_occluded=2, mean_occlusion_all=0.75 / 5,
                            mean_occlusion_occluded=0.375, num_objects_heavy=1,
                            max_occlusion=0.5)


class TestOcclusionStatistics:

    def test_known_answers_from_an_annotation_file(self, ann_file):
        stats = dataset_statistics(ann_file)
        assert stats.num_images == 4 and stats.num_images_occluded == 2
        assert stats.num_objects == 5 and stats.num_objects_occluded == 2
        assert stats.mean_occlusion_all == pytest.approx(0.15)
        assert stats.mean_occlusion_occluded == pytest.approx(0.375)
        assert stats.image_occlusion_rate == 0.5 and stats.object_occlusion_rate == 0.4

    def test_a_file_and_the_same_dataset_in_memory_give_the_same_statistics(self, ann_file):
        data = in_memory(ann_file)
        assert dataset_statistics(data) == dataset_statistics(ann_file) == KNOWN

    def test_occlusion_levels_split_the_occluded_objects_at_partial_max(self):
        stats = occlusion_statistics({1: [dict(occlude_rate=r) for r in
                                          (0., PARTIAL_MAX, PARTIAL_MAX + .01, .9)]})
        assert (stats.num_objects_partial, stats.num_objects_heavy) == (1, 2)
        assert stats.max_occlusion == .9

    def test_to_dict_holds_the_table5_values(self):
        assert KNOWN.to_dict() == dict(
            num_images=4, num_images_occluded=2, num_objects=5, num_objects_occluded=2,
            mean_occlusion_all=0.15, mean_occlusion_occluded=0.375, image_occlusion_rate=0.5,
            object_occlusion_rate=0.4)

    def test_the_converters_names_are_deprecated(self, ann_file):
        from mmorcnn.datasets.converters import common
        data = in_memory(ann_file)
        with pytest.warns(DeprecationWarning, match='statistics.dataset_statistics'):
            stats = common.dataset_occlusion_statistics(data)
        assert stats == dataset_statistics(data)
        with pytest.warns(DeprecationWarning, match='statistics.annotations_by_image'):
            assert sorted(common.annotations_by_image(data)) == [1, 2, 3, 4]

    def test_crowd_regions_are_not_objects(self):
        stats = occlusion_statistics({1: [dict(occlude_rate=0.9, iscrowd=1)]})
        assert (stats.num_images, stats.num_images_occluded, stats.num_objects) == (1, 0, 0)

    def test_empty_dataset_has_zero_rates(self):
        stats = occlusion_statistics({})
        assert stats.image_occlusion_rate == stats.object_occlusion_rate == 0.

    def test_table5_rows_in_the_paper_order_with_percentages(self):
        rows = table5_rows({'train': KNOWN, 'val': KNOWN})
        assert rows == [
            ('num imgs', '4', '4'),
            ('num imgs w/ occl', '2', '2'),
            ('img OR [%]', '50.0', '50.0'),
            ('num objs', '5', '5'),
            ('num objs occl', '2', '2'),
            ('obj OR [%]', '40.0', '40.0'),
            ('avg OR / reg (all) [%]', '15.0', '15.0'),
            ('avg OR / reg (occl) [%]', '37.5', '37.5'),
        ]
