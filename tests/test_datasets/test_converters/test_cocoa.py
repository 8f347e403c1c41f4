"""COCOA in each public shape (``regions``, flat ``*_with_classes`` / ``*_detectron_no_stuff``)
to the canonical format."""
import copy

import numpy as np
import pytest

from mmorcnn.datasets.amodal_format import AmodalAnnotationError, load_amodal_coco
from mmorcnn.datasets.converters import convert_cocoa, write_json
from mmorcnn.datasets.converters.cocoa import cocoa_shape
from mmorcnn.structures.mask_utils import mask_to_rle, rle_to_mask, segm_to_mask

from .sources import HEIGHT, WIDTH, box_polygon, image_record, rect
from .sources import write_json as write_source

# Image 1: "cup" (front, order 1) hides part of "book" (order 2); "table" is stuff (order 3).
FRONT, BACK, STUFF = box_polygon(15, 35, 20, 50), box_polygon(5, 25, 5, 30), \
    box_polygon(36, 40, 0, 60)
BACK_VISIBLE = rect(5, 25, 5, 30) & (1 - rect(15, 35, 20, 50))
BACK_INVISIBLE = rect(5, 25, 5, 30) & rect(15, 35, 20, 50)


def cocoa_source() -> dict:
    """A COCOA file with the field names of the release."""
    regions = [
        dict(segmentation=FRONT, name='cup', area=600.0, isStuff=0, occlude_rate=0.0, order=1),
        dict(segmentation=BACK, name='book', area=500.0, isStuff=0,
             occlude_rate=float(BACK_INVISIBLE.sum()) / 500, order=2,
             visible_mask=mask_to_rle(BACK_VISIBLE), invisible_mask=mask_to_rle(BACK_INVISIBLE)),
        dict(segmentation=STUFF, name='table', area=240.0, isStuff=1, occlude_rate=0.0, order=3),
    ]
    return dict(
        images=[image_record(1, 'COCO_train2014_000000000001.jpg'),
                image_record(2, 'COCO_train2014_000000000002.jpg')],
        annotations=[
            dict(id=11, image_id=1, regions=regions, size=3, author='a', url='',
                 depth_constraint='1-2'),
            dict(id=12, image_id=2, size=1, author='a', url='', depth_constraint='',
                 regions=[dict(segmentation=box_polygon(2, 12, 2, 12), name='ball', area=100.0,
                               isStuff=0, occlude_rate=0.0, order=1)]),
        ])


@pytest.fixture
def write_cocoa(tmp_path):
    """Factory: write ``cocoa_source()`` (optionally edited) and return its path."""

    def write(edit=None):
        data = cocoa_source()
        if edit is not None:
            edit(data)
        return write_source(tmp_path / 'COCO_amodal_train2014.json', data)

    return write


def _by_name(dataset):
    return {ann['name']: ann for ann in dataset['annotations']}


class TestConvertCocoa:

    def test_each_region_becomes_an_annotation_of_the_category_object(self, write_cocoa):
        dataset, skipped = convert_cocoa(write_cocoa())
        assert dataset['categories'] == [dict(id=1, name='object', supercategory='object')]
        assert [a['name'] for a in dataset['annotations']] == ['cup', 'book', 'table', 'ball']
        assert {a['category_id'] for a in dataset['annotations']} == {1}
        assert [a['id'] for a in dataset['annotations']] == [1, 2, 3, 4]
        assert [a['image_id'] for a in dataset['annotations']] == [1, 1, 1, 2]
        assert skipped.total == 0

    def test_depth_order_and_stuff_flag_are_kept(self, write_cocoa):
        anns = _by_name(convert_cocoa(write_cocoa())[0])
        assert [anns[n]['order'] for n in ('cup', 'book', 'table')] == [1, 2, 3]
        assert [anns[n]['isstuff'] for n in ('cup', 'book', 'table')] == [0, 0, 1]

    def test_visible_and_invisible_masks_are_carried_over(self, write_cocoa):
        book = _by_name(convert_cocoa(write_cocoa())[0])['book']
        assert book['segmentation'] == [BACK]
        np.testing.assert_array_equal(rle_to_mask(book['visible_mask']), BACK_VISIBLE)
        np.testing.assert_array_equal(rle_to_mask(book['invisible_mask']), BACK_INVISIBLE)
        assert book['occlude_rate'] == pytest.approx(BACK_INVISIBLE.sum() / 500)
        assert book['bbox'] == [5.0, 5.0, 25.0, 20.0] and book['area'] == 500.0

    def test_unoccluded_regions_have_no_visible_mask(self, write_cocoa):
        cup = _by_name(convert_cocoa(write_cocoa())[0])['cup']
        assert 'visible_mask' not in cup and cup['occlude_rate'] == 0.0

    def test_no_stuff_drops_stuff_regions_and_counts_them(self, write_cocoa):
        dataset, skipped = convert_cocoa(write_cocoa(), no_stuff=True)
        assert [a['name'] for a in dataset['annotations']] == ['cup', 'book', 'ball']
        assert skipped.reasons == {'stuff regions (--no-stuff)': 1}
        assert len(dataset['images']) == 2

    def test_output_is_valid_canonical_format(self, write_cocoa, tmp_path):
        out = str(tmp_path / 'out' / 'train.json')
        write_json(convert_cocoa(write_cocoa())[0], out)
        coco = load_amodal_coco(out)
        book = coco.anns_by_image[1][1]
        np.testing.assert_array_equal(rle_to_mask(book['invisible']), BACK_INVISIBLE)
        np.testing.assert_array_equal(rle_to_mask(book['amodal']),
                                      segm_to_mask([BACK], HEIGHT, WIDTH))

    def test_invisible_mask_alone_gives_the_visible_mask(self, write_cocoa):
        def edit(data):
            del data['annotations'][0]['regions'][1]['visible_mask']

        book = _by_name(convert_cocoa(write_cocoa(edit))[0])['book']
        np.testing.assert_array_equal(rle_to_mask(book['visible_mask']), BACK_VISIBLE)

    def test_second_annotation_of_an_image_is_skipped(self, write_cocoa):
        def edit(data):
            data['annotations'].append(copy.deepcopy(data['annotations'][1]))

        dataset, skipped = convert_cocoa(write_cocoa(edit))
        assert len(dataset['annotations']) == 4
        assert skipped.reasons == {
            'regions of a second annotation of an image (another annotator)': 1}


class TestStatedValuesAndOrder:
    """COCOA's stated order, rates and invisible masks are kept; occluder_ids follow the one
    occlusion rule, directed by the stated order."""

    def test_occluders_follow_the_masks_and_the_order(self, write_cocoa):
        dataset, skipped = convert_cocoa(write_cocoa())
        anns = _by_name(dataset)
        assert anns['book']['occluder_ids'] == [anns['cup']['id']]
        assert anns['cup']['occluder_ids'] == [] and anns['table']['occluder_ids'] == []
        assert not skipped.disagreements and dataset['info']['disagreements'] == {}

    def test_depth_constraint_is_kept_in_the_image_record(self, write_cocoa):
        images = convert_cocoa(write_cocoa())[0]['images']
        assert [img.get('depth_constraint') for img in images] == ['1-2', '']

    def test_order_that_contradicts_the_masks_is_kept_directs_and_is_counted(self,
                                                                              write_cocoa):
        def edit(data):
            regions = data['annotations'][0]['regions']
            regions[0]['order'], regions[1]['order'] = 2, 1  # the book said to be in front

        dataset, skipped = convert_cocoa(write_cocoa(edit))
        anns = _by_name(dataset)
        assert (anns['cup']['order'], anns['book']['order']) == (2, 1)
        assert anns['cup']['occluder_ids'] == [anns['book']['id']]
        assert anns['book']['occluder_ids'] == []
        assert skipped.disagreements == {
            'masks hide the instance the stated order puts in front (order kept)': 1}

    def test_stated_rate_and_invisible_mask_are_kept_even_when_they_disagree(self,
                                                                             write_cocoa):
        stated_invisible = BACK_INVISIBLE.copy()
        stated_invisible[15:17] = 0  # 20 pixels fewer than amodal AND NOT visible

        def edit(data):
            region = data['annotations'][0]['regions'][1]
            region.update(invisible_mask=mask_to_rle(stated_invisible), occlude_rate=0.25)
            data['annotations'][0]['regions'][0]['occlude_rate'] = 0.000004

        dataset, skipped = convert_cocoa(write_cocoa(edit))
        anns = _by_name(dataset)
        np.testing.assert_array_equal(rle_to_mask(anns['book']['invisible_mask']),
                                      stated_invisible)
        np.testing.assert_array_equal(rle_to_mask(anns['book']['visible_mask']), BACK_VISIBLE)
        assert anns['book']['occlude_rate'] == 0.25 and anns['cup']['occlude_rate'] == 0.000004
        assert skipped.disagreements == {
            'stated invisible_mask != amodal AND NOT visible (> 4 px)': 1,
            'stated occlude_rate off invisible / amodal area by > 0.001': 1}
        assert any('annotation 11 region 1: invisible_mask differs from amodal AND NOT visible '
                   'in 20 pixels' in e for e in skipped.disagreement_examples)

    def test_written_file_gives_the_stated_values_back(self, write_cocoa, tmp_path):
        def edit(data):
            data['annotations'][0]['regions'][1]['occlude_rate'] = 0.25

        out = str(tmp_path / 'train.json')
        write_json(convert_cocoa(write_cocoa(edit))[0], out)
        book = load_amodal_coco(out).anns_by_image[1][1]
        assert book['occlude_rate'] == 0.25 and book['order'] == 2
        assert book['occluder_ids'] == [1]


def flat_source(with_classes: bool) -> dict:
    """The fixture's regions as a flat per-instance file: ``*_with_classes.json`` (COCO
    categories, stuff dropped) or ``*_detectron_no_stuff.json`` (category ``object``)."""
    src = cocoa_source()
    categories = ([dict(id=44, name='bottle', supercategory='kitchen'),
                   dict(id=47, name='cup', supercategory='kitchen'),
                   dict(id=84, name='book', supercategory='indoor')] if with_classes else
                  [dict(id=1, name='object', supercategory='object')])
    category_of = {'cup': 47, 'book': 84, 'ball': 44} if with_classes else {}
    annotations = []
    for ann in src['annotations']:
        for region in ann['regions']:
            if region['isStuff']:
                continue
            annotations.append(dict(
                region, id=100 + len(annotations), image_id=ann['image_id'], iscrowd=0,
                category_id=category_of.get(region['name'], 1), bbox=[0, 0, 1, 1]))
    return dict(images=src['images'], annotations=annotations, categories=categories)


class TestFlatShapes:

    @pytest.mark.parametrize('with_classes, shape', [(True, 'flat-classes'), (False, 'flat')])
    def test_shape_is_told_from_the_content(self, with_classes, shape):
        assert cocoa_shape(flat_source(with_classes), 'x.json') == shape
        assert cocoa_shape(cocoa_source(), 'x.json') == 'regions'

    def test_mixed_shapes_are_an_error(self):
        data = cocoa_source()
        data['annotations'].append(flat_source(True)['annotations'][0])
        with pytest.raises(ValueError, match='x.json: 2 annotations have "regions"'):
            cocoa_shape(data, 'x.json')

    @pytest.mark.parametrize('with_classes', [True, False])
    def test_ids_categories_order_rates_and_masks_are_kept(self, with_classes, tmp_path):
        name = 'with_classes' if with_classes else 'detectron_no_stuff'
        src = flat_source(with_classes)
        path = write_source(tmp_path / f'COCO_amodal_val2014_{name}.json', src)
        dataset, skipped = convert_cocoa(path)
        assert dataset['info']['shape'] == ('flat-classes' if with_classes else 'flat')
        assert dataset['categories'] == src['categories']
        assert [(a['id'], a['category_id'], a['order'], a['name']) for a in
                dataset['annotations']] == [(a['id'], a['category_id'], a['order'], a['name'])
                                            for a in src['annotations']]
        cup, book, _ = dataset['annotations']
        assert book['occlude_rate'] == src['annotations'][1]['occlude_rate']
        np.testing.assert_array_equal(rle_to_mask(book['invisible_mask']), BACK_INVISIBLE)
        assert book['occluder_ids'] == [cup['id']] and book['isstuff'] == 0
        assert skipped.total == 0 and not skipped.disagreements

    def test_no_stuff_drops_stuff_of_a_flat_file(self, tmp_path):
        src = flat_source(False)
        src['annotations'][2]['isStuff'] = 1
        dataset, skipped = convert_cocoa(write_source(tmp_path / 'flat.json', src),
                                         no_stuff=True)
        assert len(dataset['annotations']) == 2
        assert skipped.reasons == {'stuff regions (--no-stuff)': 1}

    def test_unknown_category_of_a_flat_file_is_named(self, tmp_path):
        src = flat_source(True)
        src['annotations'][0]['category_id'] = 5
        path = write_source(tmp_path / 'flat.json', src)
        with pytest.raises(AmodalAnnotationError,
                           match=f'{path}: image 1, annotation 100: unknown category id 5'):
            convert_cocoa(path)


def _break_region(**changes):
    """An edit that changes (``None``: deletes) fields of region 1 of annotation 11."""

    def edit(data):
        region = data['annotations'][0]['regions'][1]
        for key, value in changes.items():
            if value is None:
                region.pop(key)
            else:
                region[key] = value

    return edit


class TestMalformedCocoa:

    @pytest.mark.parametrize('edit, reason', [
        (_break_region(isStuff=None), "'isStuff' must be 0 or 1"),
        (_break_region(isStuff='no'), "'isStuff' must be 0 or 1"),
        (_break_region(segmentation=None), "no 'segmentation'"),
        (_break_region(segmentation=[1, 2, 3, 4]), 'at least 3'),
        (_break_region(order='2'), "'order' must be an integer"),
        (_break_region(visible_mask=mask_to_rle(np.ones((HEIGHT + 1, WIDTH), np.uint8))),
         'does not match the image size'),
    ])
    def test_error_names_file_image_annotation_and_region(self, write_cocoa, edit, reason):
        path = write_cocoa(edit)
        with pytest.raises(AmodalAnnotationError) as info:
            convert_cocoa(path)
        message = str(info.value)
        assert message.startswith(f'{path}: image 1, annotation 11 region 1: ')
        assert reason in message

    def test_occluded_region_without_masks_is_kept_and_counted(self, write_cocoa):
        dataset, skipped = convert_cocoa(write_cocoa(_break_region(visible_mask=None,
                                                                   invisible_mask=None)))
        book = _by_name(dataset)['book']
        assert book['occlude_rate'] > 0 and 'invisible_mask' not in book
        assert skipped.total == 0 and skipped.disagreements == {
            'stated occlude_rate off invisible / amodal area by > 0.001': 1}

    def test_unknown_image_id_is_named(self, write_cocoa):
        def edit(data):
            data['annotations'][1]['image_id'] = 99

        path = write_cocoa(edit)
        with pytest.raises(AmodalAnnotationError, match=f'{path}: image 99, annotation 12: '
                           "'image_id' names no image"):
            convert_cocoa(path)

    def test_regions_of_the_wrong_type_are_named(self, write_cocoa):
        def edit(data):
            data['annotations'][1]['regions'] = {'segmentation': []}

        with pytest.raises(AmodalAnnotationError, match="image 2, annotation 12: 'regions' must"):
            convert_cocoa(write_cocoa(edit))

    def test_image_record_without_size_is_named(self, write_cocoa):
        def edit(data):
            del data['images'][1]['height']

        with pytest.raises(AmodalAnnotationError,
                           match=r"image 2: image record lacks \['height'\]"):
            convert_cocoa(write_cocoa(edit))

    def test_skip_mode_counts_bad_regions_by_reason(self, write_cocoa):
        dataset, skipped = convert_cocoa(write_cocoa(_break_region(order='2')), on_error='skip')
        assert [a['name'] for a in dataset['annotations']] == ['cup', 'table', 'ball']
        assert skipped.reasons == {"invalid: 'order' must be an integer, not 'N'": 1}
        assert 'annotation 11 region 1' in skipped.first_errors[0]
