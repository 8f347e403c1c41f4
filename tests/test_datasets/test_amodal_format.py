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

    def test_stated_area_is_kept_beside_the_mask_area(self, coco_dict):
        ann = dict(coco_dict['annotations'][0], area=1234.5)
        parsed = parse(ann)
        assert (parsed['stated_area'], parsed['area']) == (1234.5, 500.0)
        assert 'stated_area' not in parse(dict(ann, area=None))

    @pytest.mark.parametrize('area', ['500', -1, float('nan'), float('inf'), True])
    def test_bad_area_names_file_image_and_annotation(self, coco_dict, area):
        ann = dict(coco_dict['annotations'][0], area=area)
        with pytest.raises(AmodalAnnotationError,
                           match=r"ann\.json.*image 1.*annotation 1.*'area'"):
            parse(ann)

    def test_polygon_leaving_the_image_is_clipped_to_it(self):
        ann = dict(id=1, category_id=3, segmentation=[[-10, -10, 10, -10, 10, 10, -10, 10]])
        parsed = parse(ann)
        np.testing.assert_array_equal(rle_to_mask(parsed['amodal']), rect(0, 10, 0, 10))
        assert parsed['bbox'] == [0.0, 0.0, 10.0, 10.0]

    def test_visible_mask_partly_outside_amodal_is_clipped_and_noted(self, scene):
        visible = scene[2]['amodal'].copy()
        visible[15, 10:19] = 1  # 9 of 609 pixels outside
        ann = dict(id=2, category_id=7, segmentation=mask_to_rle(scene[2]['amodal']),
                   visible_mask=mask_to_rle(visible))
        parsed = parse(ann)
        np.testing.assert_array_equal(rle_to_mask(parsed['visible']), scene[2]['amodal'])
        assert parsed['repairs'] == [
            'visible mask clipped to the amodal mask: 9 of its 609 pixels were outside']

    def test_degenerate_polygon_part_is_dropped_and_noted_while_another_remains(self):
        ann = dict(id=1, category_id=3, segmentation=[[1, 1, 9, 1, 9, 9], [1, 2, 3, 4]])
        parsed = parse(ann)
        assert parsed['area'] == parse(dict(ann, segmentation=[[1, 1, 9, 1, 9, 9]]))['area']
        assert parsed['repairs'] == ['degenerate polygon part dropped: segmentation polygon 1 '
                                     'has 2 points; at least 3 (x, y) points are needed']

    def test_well_formed_annotation_has_no_repairs(self, coco_dict):
        assert 'repairs' not in parse(coco_dict['annotations'][0])

    @pytest.mark.parametrize('edit, reason', [
        (lambda a: a.pop('segmentation'), "no 'segmentation'"),
        (lambda a: a.update(segmentation=[]), 'empty segmentation'),
        (lambda a: a.update(segmentation=[[40, 40, 50, 50, 45, 60]]), 'empty amodal mask'),
        (lambda a: a.update(segmentation=[[1, 1, 9, 1]]), 'no polygon with at least 3'),
        (lambda a: a.update(segmentation=[[1, 1, 9, float('nan'), 9, 9]]), 'not finite'),
        (lambda a: a.update(segmentation=[[1, 1, 9, 1, 1e8, 9]]), 'one image size outside'),
        (lambda a: a.update(segmentation=[[1, 1, 9, 1, 9, '9']]), 'not a flat list'),
        (lambda a: a.update(segmentation={'size': [HEIGHT, WIDTH], 'counts': 'PPP'}),
         'truncated'),
        (lambda a: a.update(segmentation={'size': [HEIGHT, WIDTH], 'counts': [5, 10]}),
         'covers 15 pixels'),
        (lambda a: a.update(segmentation={'size': [HEIGHT, WIDTH], 'counts': [2400, -1, 1]}),
         'run length outside'),
        (lambda a: a.update(segmentation=7), 'neither polygons nor RLE'),
        (lambda a: a.update(segmentation=mask_to_rle(np.ones((HEIGHT + 1, WIDTH), np.uint8))),
         'does not match the image size'),
        (lambda a: a.update(visible_mask=mask_to_rle(rect(0, 40, 0, 60))),
         'visible mask is not inside the amodal mask: 1900 of its 2400 pixels'),
        (lambda a: a.update(visible_mask=mask_to_rle(np.ones((10, 10), np.uint8))),
         'visible_mask: RLE size'),
        (lambda a: a.update(invisible_mask=mask_to_rle(rect(30, 40, 0, 60))),
         'invisible mask is not inside the amodal mask'),
        (lambda a: a.update(category_id=5), 'unknown category id 5'),
        (lambda a: a.update(category_id='3'), "unknown category id '3'"),
        (lambda a: a.update(occlude_rate=float('nan')), "'occlude_rate' must be a number in"),
        (lambda a: a.update(occlude_rate='high'), "not 'high'"),
        (lambda a: a.update(occlude_rate=1.5), "'occlude_rate' must be a number in [0, 1]"),
        (lambda a: a.update(iscrowd=2), "'iscrowd' must be 0 or 1"),
        (lambda a: a.update(order='front'), "'order' must be an integer"),
        (lambda a: a.update(occluder_ids=2), "'occluder_ids' must be a list"),
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

    @pytest.mark.parametrize('ann_id', ['1', 1.0, True, [1], 2**70])
    def test_annotation_id_that_is_no_integer_is_an_error(self, coco_dict, ann_id):
        with pytest.raises(AmodalAnnotationError, match=r"image 1, annotation .*: 'id' .* is not "
                           'an integer'):
            parse(dict(coco_dict['annotations'][0], id=ann_id))

    def test_annotation_that_is_no_object_is_an_error(self):
        with pytest.raises(AmodalAnnotationError, match='ann.json: image 1: the annotation is a '
                           'list, not an object'):
            parse([1, 2])


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

    def test_skip_mode_turns_a_bad_annotation_into_an_ignored_region_logs_and_counts_it(
            self, write_dataset, scene, caplog):
        _, ann_file = write_dataset(lambda c: c['annotations'][0].update(occlude_rate='high'))
        coco = load_amodal_coco(ann_file, on_error='skip', logger=logging.getLogger('amodal'))
        anns = coco.anns_by_image[1]
        assert [(ann['id'], ann['iscrowd']) for ann in anns] == [(1, 1), (2, 0), (3, 1)]
        region = anns[0]
        assert region['category_id'] == 3 and "not 'high'" in region['ignored']
        np.testing.assert_array_equal(rle_to_mask(region['amodal']), scene[1]['amodal'])
        assert not rle_to_mask(region['invisible']).any()
        assert len(coco.skipped) == 1 and coco.skipped[0][:2] == (1, 1)
        assert coco.ignored == [(1, 1, 'amodal mask')]
        assert 'image 1, annotation 1: ' in caplog.text
        assert 'it becomes an ignored region (its amodal mask)' in caplog.text
        assert 'skipped 1 of 3 annotations: 1 became ignored regions' in caplog.text

    def test_ignored_region_of_an_unusable_mask_is_its_bbox(self, write_dataset):
        _, ann_file = write_dataset(lambda c: c['annotations'][0].update(
            segmentation=[[1, 1, float('nan'), 1, 9, 9]], bbox=[-4, 2, 10, 6]))
        coco = load_amodal_coco(ann_file, on_error='skip', logger=logging.getLogger('amodal'))
        region = coco.anns_by_image[1][0]
        np.testing.assert_array_equal(rle_to_mask(region['amodal']), rect(2, 8, 0, 6))
        assert coco.ignored == [(1, 1, 'bbox')]

    def test_ignored_region_of_an_unknown_category_ignores_every_category(self, write_dataset):
        _, ann_file = write_dataset(lambda c: c['annotations'][1].update(category_id=99))
        coco = load_amodal_coco(ann_file, on_error='skip', logger=logging.getLogger('amodal'))
        regions = [a for a in coco.anns_by_image[1] if a['id'] == 2]
        assert [(a['category_id'], a['iscrowd']) for a in regions] == [(3, 1), (7, 1)]
        assert 'unknown category id 99' in coco.skipped[0][2]

    def test_annotation_without_region_or_image_is_left_out_and_counted(self, write_dataset,
                                                                         caplog):
        def edit(content):
            content['annotations'][0].update(segmentation='?')
            content['annotations'][1].update(image_id='1')
            content['annotations'].append([1, 2])

        _, ann_file = write_dataset(edit)
        coco = load_amodal_coco(ann_file, on_error='skip', logger=logging.getLogger('amodal'))
        assert [a['id'] for a in coco.anns_by_image[1]] == [3]
        assert [skip[:2] for skip in coco.skipped] == [(1, 1), ('1', 2), (None, None)]
        assert coco.ignored == []
        assert 'annotations[3] is a list, not an object; left out (no image)' in caplog.text
        assert 'annotation 1: segmentation of type str is neither polygons nor RLE; left out ' \
            '(no usable region)' in caplog.text
        assert '0 became ignored regions' in caplog.text and '3 were left out' in caplog.text

    def test_repairs_are_logged_and_listed(self, write_dataset, caplog):
        _, ann_file = write_dataset(lambda c: c['annotations'][1]['segmentation'].append([0, 0]))
        coco = load_amodal_coco(ann_file, logger=logging.getLogger('amodal'))
        assert [a['id'] for a in coco.anns_by_image[1]] == [1, 2, 3]
        assert [r[:2] for r in coco.repaired] == [(1, 2)]
        assert "{'degenerate polygon part dropped': 1}" in caplog.text

    @pytest.mark.parametrize('text, reason', [
        ('{"images": [', 'not valid JSON: Expecting value at line 1 column 13'),
        ('[]', 'expected a COCO JSON object, got a list'),
        ('{"images": [], "annotations": []}', "lacks ['categories']"),
        ('{"images": {}, "annotations": [], "categories": []}', "'images' is a dict, not a list"),
        ('{"images": [3], "annotations": [], "categories": []}', 'images[0] is a int, not an'),
        ('{"images": [], "annotations": [], "categories": [{"id": "a", "name": "x"}]}',
         "categories[0]: id 'a' is not an integer"),
        ('{"images": [{"id": 1, "file_name": "a.png", "height": 1e5, "width": 1}], '
         '"annotations": [], "categories": []}', 'height 100000.0 is not a positive integer'),
        ('{"images": [{"id": 1, "file_name": "a.png", "height": 100000, "width": 100000}], '
         '"annotations": [], "categories": []}', 'more than pycocotools can encode'),
    ])
    def test_malformed_file_error_names_the_file(self, tmp_path, text, reason):
        ann_file = tmp_path / 'bad.json'
        ann_file.write_text(text)
        with pytest.raises(AmodalAnnotationError) as info:
            load_amodal_coco(str(ann_file), on_error='skip')
        assert str(info.value).startswith(f'{ann_file}: ') and reason in str(info.value)

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
