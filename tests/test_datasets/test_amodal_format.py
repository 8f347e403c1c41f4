import logging

import numpy as np
import pytest

from mmorcnn.datasets.amodal_format import (AmodalAnnotationError, load_amodal_coco,
                                            parse_amodal_annotation)
from mmorcnn.structures.mask_utils import mask_to_rle, rle_to_mask

from .amodal_scene import HEIGHT, WIDTH, rect

IMG = dict(id=1, file_name='scene.png', height=HEIGHT, width=WIDTH)
CAT_IDS = {3, 7}


def parse(ann, **kwargs):
    return parse_amodal_annotation(ann, IMG, CAT_IDS, 'ann.json', **kwargs)


class TestParseAmodalAnnotation:

    def test_all_three_masks_and_amodal_box(self, coco_dict, scene):
        parsed = parse(coco_dict['annotations'][0])
        for part in ('amodal', 'visible', 'invisible'):
            np.testing.assert_array_equal(rle_to_mask(parsed[part]), scene[1][part])
            assert isinstance(parsed[part]['counts'], str)
            assert parsed[part]['size'] == [HEIGHT, WIDTH]
        assert parsed['bbox'] == [5.0, 5.0, 25.0, 20.0]
        assert parsed['area'] == 500.0
        assert parsed['occlude_rate'] == pytest.approx(scene[1]['invisible'].sum() / 500)
        assert (parsed['order'], parsed['occluder_ids']) == (2, [2])

    def test_missing_invisible_mask_is_amodal_and_not_visible(self, coco_dict, scene):
        ann = coco_dict['annotations'][0]
        assert 'invisible_mask' not in ann
        invisible = rle_to_mask(parse(ann)['invisible'])
        np.testing.assert_array_equal(invisible, scene[1]['amodal'] & (1 - scene[1]['visible']))

    def test_missing_visible_mask_means_fully_visible(self, coco_dict, scene):
        parsed = parse(coco_dict['annotations'][1])
        np.testing.assert_array_equal(rle_to_mask(parsed['visible']), scene[2]['amodal'])
        assert not rle_to_mask(parsed['invisible']).any()
        assert parsed['occlude_rate'] == 0.0

    def test_only_invisible_mask_given_derives_visible(self, scene):
        ann = dict(id=1, category_id=3, segmentation=mask_to_rle(scene[1]['amodal']),
                   invisible_mask=mask_to_rle(scene[1]['invisible']))
        np.testing.assert_array_equal(rle_to_mask(parse(ann)['visible']), scene[1]['visible'])

    def test_given_occlude_rate_is_kept(self, coco_dict):
        ann = dict(coco_dict['annotations'][0], occlude_rate=0.5)
        assert parse(ann)['occlude_rate'] == 0.5

    def test_polygon_leaving_the_image_is_clipped_to_it(self):
        ann = dict(id=1, category_id=3, segmentation=[[-10, -10, 10, -10, 10, 10, -10, 10]])
        parsed = parse(ann)
        np.testing.assert_array_equal(rle_to_mask(parsed['amodal']), rect(0, 10, 0, 10))
        assert parsed['bbox'] == [0.0, 0.0, 10.0, 10.0]

    def test_visible_mask_slightly_outside_amodal_is_accepted(self, scene):
        visible = scene[2]['amodal'].copy()
        visible[15, 19] = 1  # 1 of 601 pixels outside
        ann = dict(id=2, category_id=7, segmentation=mask_to_rle(scene[2]['amodal']),
                   visible_mask=mask_to_rle(visible))
        assert parse(ann)['id'] == 2

    @pytest.mark.parametrize('edit, reason', [
        (lambda a: a.pop('segmentation'), "no 'segmentation'"),
        (lambda a: a.update(segmentation=[]), 'empty segmentation'),
        (lambda a: a.update(segmentation=[[40, 40, 50, 50, 45, 60]]), 'empty amodal mask'),
        (lambda a: a.update(segmentation=[[1, 1, 9, 1]]), 'at least 3'),
        (lambda a: a.update(segmentation=[[1, 1, 9, 1, 9, 9], [1, 2, 3]]), 'at least 3'),
        (lambda a: a.update(segmentation=mask_to_rle(np.ones((HEIGHT + 1, WIDTH), np.uint8))),
         'does not match the image size'),
        (lambda a: a.update(visible_mask=mask_to_rle(rect(0, 40, 0, 60))),
         'visible mask is not inside the amodal mask'),
        (lambda a: a.update(visible_mask=mask_to_rle(np.ones((10, 10), np.uint8))),
         'visible_mask: RLE size'),
        (lambda a: a.update(invisible_mask=mask_to_rle(rect(30, 40, 0, 60))),
         'invisible mask is not inside the amodal mask'),
        (lambda a: a.update(category_id=5), 'unknown category id 5'),
    ])
    def test_bad_annotation_error_names_file_image_annotation_and_problem(
            self, coco_dict, edit, reason):
        ann = coco_dict['annotations'][0]
        edit(ann)
        with pytest.raises(AmodalAnnotationError) as info:
            parse(ann)
        message = str(info.value)
        assert message.startswith('ann.json: image 1, annotation 1: ')
        assert reason in message
        assert (info.value.ann_file, info.value.image_id, info.value.ann_id) == ('ann.json', 1, 1)


class TestLoadAmodalCoco:

    def test_loads_images_categories_and_annotations_per_image(self, write_dataset):
        _, ann_file = write_dataset()
        coco = load_amodal_coco(ann_file)
        assert [img['id'] for img in coco.images] == [1, 2]
        assert [cat['id'] for cat in coco.categories] == [3, 7]
        assert [ann['id'] for ann in coco.anns_by_image[1]] == [1, 2, 3]
        assert coco.anns_by_image[2] == []
        assert coco.skipped == []

    def test_raises_on_the_first_bad_annotation_by_default(self, write_dataset):
        _, ann_file = write_dataset(lambda c: c['annotations'][1].update(category_id=99))
        with pytest.raises(AmodalAnnotationError, match=r'image 1, annotation 2: unknown cat'):
            load_amodal_coco(ann_file)

    def test_skip_mode_leaves_bad_annotations_out_logs_and_counts_them(self, write_dataset,
                                                                       caplog):
        _, ann_file = write_dataset(lambda c: c['annotations'][1].update(category_id=99))
        coco = load_amodal_coco(ann_file, on_error='skip', logger=logging.getLogger('amodal'))
        assert [ann['id'] for ann in coco.anns_by_image[1]] == [1, 3]
        assert len(coco.skipped) == 1
        assert coco.skipped[0][:2] == (1, 2) and 'unknown category id 99' in coco.skipped[0][2]
        assert 'image 1, annotation 2: unknown category id 99' in caplog.text
        assert 'skipped 1 of 3 annotations' in caplog.text

    def test_annotation_of_an_unknown_image_is_an_error(self, write_dataset):
        _, ann_file = write_dataset(lambda c: c['annotations'][2].update(image_id=42))
        with pytest.raises(AmodalAnnotationError, match=r'image 42, annotation 3: .*names no im'):
            load_amodal_coco(ann_file)

    def test_annotation_id_used_twice_is_an_error(self, write_dataset):
        _, ann_file = write_dataset(lambda c: c['annotations'][2].update(id=1))
        with pytest.raises(AmodalAnnotationError, match='annotation 1: annotation id used twice'):
            load_amodal_coco(ann_file)

    def test_image_record_without_size_is_an_error(self, write_dataset):
        _, ann_file = write_dataset(lambda c: c['images'][1].pop('height'))
        with pytest.raises(AmodalAnnotationError, match=r"image 2: image record lacks \['height'"):
            load_amodal_coco(ann_file)

    def test_unknown_on_error_mode_is_refused(self, write_dataset):
        _, ann_file = write_dataset()
        with pytest.raises(ValueError, match='on_error'):
            load_amodal_coco(ann_file, on_error='ignore')
