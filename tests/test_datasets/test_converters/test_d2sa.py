"""D2S amodal: the release's fields kept, validation, zero padding of border-cut objects,
merging of splits, Table 5."""
import cv2
import numpy as np
import pytest

from mmorcnn.datasets.amodal_format import AmodalAnnotationError, load_amodal_coco
from mmorcnn.datasets.converters import convert_d2sa, write_json
from mmorcnn.datasets.converters.d2sa import table5_comparison
from mmorcnn.structures.mask_utils import mask_to_rle, rle_area, rle_to_mask

from .sources import HEIGHT, WIDTH, image_record, rect
from .sources import write_json as write_source

D2S_CATEGORIES = [dict(id=1, name='adelholzener_alpenquelle_classic_075', supercategory='water'),
                  dict(id=2, name='kiwi', supercategory='fruit')]
FRONT, BACK = rect(15, 35, 20, 50), rect(5, 25, 5, 30)


def d2s_annotation(ann_id, image_id, amodal, visible=None, category_id=1, order=1,
                   occl_depth=0, depth_constraint=''):
    """An annotation with the fields of the D2S amodal release: RLE masks at the image size,
    bool iscrowd, ``occl_depth``, ``amodal_region`` and ``amodal_base``."""
    area = float(amodal.sum())
    ann = dict(id=ann_id, image_id=image_id, category_id=category_id, iscrowd=False,
               segmentation=mask_to_rle(amodal), area=area, bbox=[0, 0, 1, 1],
               occl_depth=occl_depth, occlude_rate=0.0,
               amodal_region=dict(name=f'object {ann_id}', area=area, isStuff=0,
                                  bbox=[0, 0, 1, 1], order=order),
               amodal_base=dict(url='', image_id=image_id, size=2, author='MVTec Software GmbH',
                                depth_constraint=depth_constraint))
    if visible is not None:
        invisible = amodal & (1 - visible)
        ann.update(visible_mask=mask_to_rle(visible), invisible_mask=mask_to_rle(invisible),
                   occlude_rate=float(invisible.sum() / amodal.sum()))
    return ann


def d2s_file(first_image_id=1) -> dict:
    i = first_image_id
    return dict(
        images=[image_record(i, f'D2S_{i:06d}.jpg'), image_record(i + 1, f'D2S_{i + 1:06d}.jpg')],
        annotations=[d2s_annotation(1, i, FRONT, category_id=2, order=1, depth_constraint='1-2'),
                     d2s_annotation(2, i, BACK, visible=BACK & (1 - FRONT), order=2,
                                    occl_depth=1, depth_constraint='1-2')],
        categories=D2S_CATEGORIES)


class TestValidation:

    def test_release_annotations_become_canonical_with_consistent_masks(self, tmp_path):
        path = write_source(tmp_path / 'D2S_amodal_validation.json', d2s_file())
        dataset, skipped = convert_d2sa([path])
        front, back = dataset['annotations']
        assert (front['id'], front['iscrowd'], front['occlude_rate']) == (1, 0, 0.0)
        np.testing.assert_array_equal(rle_to_mask(back['invisible_mask']), BACK & FRONT)
        assert back['bbox'] == [5.0, 5.0, 25.0, 20.0]
        assert dataset['categories'] == D2S_CATEGORIES and len(dataset['images']) == 2
        assert skipped.total == 0 and dataset['info']['padded_image_ids'] == []
        out = str(tmp_path / 'val.json')
        write_json(dataset, out)
        assert len(load_amodal_coco(out).anns_by_image[1]) == 2

    @pytest.mark.parametrize('field, value, reason', [
        ('visible_mask', mask_to_rle(np.ones((HEIGHT, WIDTH + 2), np.uint8)),
         r'visible_mask: RLE size \[40, 62\] does not match the image size \[40, 60\]'),
        ('segmentation', None, "no 'segmentation'"),
        ('segmentation', {'size': [HEIGHT, WIDTH]}, "RLE needs the keys 'size' and 'counts'"),
        ('category_id', 9, 'unknown category id 9'),
        ('visible_mask', mask_to_rle(FRONT), 'visible mask is not inside the amodal mask'),
    ])
    def test_malformed_annotation_error_names_file_image_and_annotation(
            self, tmp_path, field, value, reason):
        data = d2s_file()
        if value is None:
            del data['annotations'][1][field]
        else:
            data['annotations'][1][field] = value
        path = write_source(tmp_path / 'D2S_amodal_validation.json', data)
        with pytest.raises(AmodalAnnotationError, match=f'{path}: image 1, annotation 2: {reason}'):
            convert_d2sa([path])

    def test_unknown_image_id_is_named(self, tmp_path):
        data = d2s_file()
        data['annotations'][0]['image_id'] = 7
        path = write_source(tmp_path / 'D2S.json', data)
        with pytest.raises(AmodalAnnotationError,
                           match=f"{path}: image 7, annotation 1: 'image_id' names no image"):
            convert_d2sa([path])

    def test_skip_mode_leaves_out_and_counts_bad_annotations(self, tmp_path):
        data = d2s_file()
        data['annotations'][1]['category_id'] = 9
        dataset, skipped = convert_d2sa([write_source(tmp_path / 'D2S.json', data)],
                                        on_error='skip')
        assert [a['id'] for a in dataset['annotations']] == [1]
        assert skipped.reasons == {
            'invalid: unknown category id N: the file\'s categories are [N, N]': 1}


class TestReleaseFields:
    """What the release states is kept: order, stuff flag, name, occl_depth, depth_constraint,
    invisible masks and rates; occluder_ids follow the one occlusion rule."""

    def test_depth_order_and_region_fields_are_kept(self, tmp_path):
        dataset, _ = convert_d2sa([write_source(tmp_path / 'D2S.json', d2s_file())])
        front, back = dataset['annotations']
        assert [(a['order'], a['isstuff'], a['name'], a['occl_depth']) for a in (front, back)] \
            == [(1, 0, 'object 1', 0), (2, 0, 'object 2', 1)]
        assert 'amodal_region' not in back and 'amodal_base' not in back
        assert dataset['images'][0]['depth_constraint'] == '1-2'
        assert (front['occluder_ids'], back['occluder_ids']) == ([], [1])

    def test_stated_order_directs_occluders_and_a_contradiction_is_counted(self, tmp_path):
        data = d2s_file()
        data['annotations'][0]['amodal_region']['order'] = 3  # front said to lie behind back
        dataset, log = convert_d2sa([write_source(tmp_path / 'D2S.json', data)])
        front, back = dataset['annotations']
        assert (front['order'], back['order']) == (3, 2)
        assert (front['occluder_ids'], back['occluder_ids']) == ([2], [])
        assert log.disagreements == {
            'masks hide the instance the stated order puts in front (order kept)': 1}
        assert dataset['info']['disagreements'] == dict(log.disagreements)

    def test_stated_invisible_mask_and_rate_are_kept_and_disagreements_counted(self, tmp_path):
        data = d2s_file()
        back = data['annotations'][1]
        stated_invisible = BACK & FRONT
        stated_invisible[15, 20:30] = 0  # 10 pixels fewer than amodal AND NOT visible
        back.update(invisible_mask=mask_to_rle(stated_invisible), occlude_rate=0.5)
        dataset, log = convert_d2sa([write_source(tmp_path / 'D2S.json', data)])
        out = dataset['annotations'][1]
        np.testing.assert_array_equal(rle_to_mask(out['invisible_mask']), stated_invisible)
        assert out['occlude_rate'] == 0.5
        assert sorted(log.disagreements) == [
            'stated invisible_mask != amodal AND NOT visible (> 4 px)',
            'stated occlude_rate off invisible / amodal area by > 0.001']
        assert 'image 1, annotation 2: occlude_rate 0.5' in log.disagreement_examples[1]

    def test_small_border_differences_are_no_disagreement(self, tmp_path):
        data = d2s_file()
        back = data['annotations'][1]
        stated_invisible = BACK & FRONT
        stated_invisible[15, 20:24] = 0  # 4 pixels: annotators' borders
        back.update(invisible_mask=mask_to_rle(stated_invisible),
                    occlude_rate=stated_invisible.sum() / BACK.sum() + 0.0009)
        _, log = convert_d2sa([write_source(tmp_path / 'D2S.json', data)])
        assert not log.disagreements

    def test_rle_masks_at_both_released_image_sizes_are_read_without_padding(self, tmp_path):
        """1440x1920 and the release's zero-padded 1534x1920: an object cut by the original
        border reaches into the padding, so its hidden part lies inside the padded image."""
        images, anns = [], []
        for image_id, height in ((1, 1440), (2, 1534)):
            amodal = np.zeros((height, 1920), np.uint8)
            amodal[1400:height, 100:300] = 1
            visible = amodal.copy()
            visible[1440:] = 0
            images.append(image_record(image_id, f'{image_id}.jpg', height, 1920))
            anns.append(d2s_annotation(image_id, image_id, amodal, visible))
        path = write_source(tmp_path / 'D2S.json', dict(images=images, annotations=anns,
                                                        categories=D2S_CATEGORIES))
        dataset, log = convert_d2sa([path])
        assert dataset['info']['padded_image_ids'] == []
        assert [(i['height'], i['width']) for i in dataset['images']] == [(1440, 1920),
                                                                         (1534, 1920)]
        small, padded = dataset['annotations']
        assert small['occlude_rate'] == 0.0 and padded['occlude_rate'] == pytest.approx(94 / 134)
        assert padded['segmentation'] == anns[1]['segmentation']
        assert rle_area([padded['invisible_mask']])[0] == 94 * 200
        assert not log.disagreements


class TestTable5:

    def test_released_split_is_compared_with_the_paper(self, tmp_path):
        path = write_source(tmp_path / 'D2S_amodal_validation.json', d2s_file())
        dataset, _ = convert_d2sa([path])
        text = table5_comparison([path], dataset)
        lines = {line.split('  ')[0]: line.split() for line in text.splitlines()}
        assert 'val (paper)' in text
        assert lines['num imgs'][-2:] == ['2', '3600']
        assert lines['num objs occl'][-2:] == ['1', '7473']

    def test_train_is_rot0_plus_augmented_in_any_order(self, tmp_path):
        rot0 = write_source(tmp_path / 'D2S_amodal_training_rot0.json', d2s_file(1))
        aug = write_source(tmp_path / 'D2S_amodal_augmented.json', d2s_file(10))
        dataset, _ = convert_d2sa([aug, rot0])
        assert 'train (paper)' in table5_comparison([aug, rot0], dataset)

    def test_other_files_have_no_comparison(self, tmp_path):
        path = write_source(tmp_path / 'my_d2s.json', d2s_file())
        assert table5_comparison([path], convert_d2sa([path])[0]) is None


class TestZeroPadding:
    """Paper 4.3: images whose amodal masks reach out of them are zero-padded."""

    @pytest.fixture
    def cut_object(self, tmp_path):
        """Image 1 holds an object whose amodal polygon leaves the image left and at the bottom
        (x from -6, y up to 43.5); its visible part is the part inside."""
        img_dir = tmp_path / 'images'
        img_dir.mkdir()
        pixels = np.random.default_rng(0).integers(1, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        cv2.imwrite(str(img_dir / 'D2S_000001.png'), pixels)
        polygon = [-6, 30, 10, 30, 10, 43.5, -6, 43.5]
        inside = rect(30, 40, 0, 10)
        ann = dict(id=5, image_id=1, category_id=1, iscrowd=0, segmentation=[polygon],
                   visible_mask=mask_to_rle(inside), area=0.0, bbox=[0, 0, 1, 1])
        data = dict(images=[image_record(1, 'D2S_000001.png')], annotations=[ann],
                    categories=D2S_CATEGORIES)
        return write_source(tmp_path / 'D2S.json', data), str(img_dir), pixels

    def test_padded_image_holds_the_whole_amodal_mask(self, cut_object):
        path, img_dir, pixels = cut_object
        dataset, _ = convert_d2sa([path], img_dir=img_dir)
        (img, ) = dataset['images']
        assert img['padding'] == dict(top=0, bottom=4, left=6, right=0)
        assert (img['height'], img['width'], img['file_name']) == (44, 66, 'padded/D2S_000001.png')
        (ann, ) = dataset['annotations']
        assert ann['segmentation'] == [[0, 30, 16, 30, 16, 43.5, 0, 43.5]]
        assert ann['area'] == 16 * 14 and ann['bbox'] == [0.0, 30.0, 16.0, 14.0]
        invisible = rle_to_mask(ann['invisible_mask'])
        assert invisible.sum() == 16 * 14 - 100  # all but the 10x10 visible part inside

    def test_padded_image_file_is_the_image_framed_by_zeros(self, cut_object):
        path, img_dir, pixels = cut_object
        convert_d2sa([path], img_dir=img_dir)
        padded = cv2.imread(f'{img_dir}/padded/D2S_000001.png')
        assert padded.shape == (44, 66, 3)
        np.testing.assert_array_equal(padded[:40, 6:], pixels)
        assert not padded[40:].any() and not padded[:, :6].any()

    def test_padding_needs_the_image_folder(self, cut_object):
        path, _, _ = cut_object
        with pytest.raises(AmodalAnnotationError, match=f'{path}: image 1: amodal polygons reach '
                           r'\(0, 4, 6, 0\)'):
            convert_d2sa([path])


class TestMerging:

    def test_training_rot0_and_augmented_merge_with_new_annotation_ids(self, tmp_path):
        rot0 = write_source(tmp_path / 'D2S_amodal_training_rot0.json', d2s_file(1))
        aug = write_source(tmp_path / 'D2S_amodal_augmented.json', d2s_file(10))
        dataset, _ = convert_d2sa([rot0, aug])
        assert [img['id'] for img in dataset['images']] == [1, 2, 10, 11]
        assert [(a['id'], a['image_id']) for a in dataset['annotations']] == [
            (1, 1), (2, 1), (3, 10), (4, 10)]

    def test_image_id_in_two_files_is_an_error(self, tmp_path):
        rot0 = write_source(tmp_path / 'a.json', d2s_file(1))
        aug = write_source(tmp_path / 'b.json', d2s_file(2))
        with pytest.raises(AmodalAnnotationError, match=f'{aug}: image 2: image id also used in'):
            convert_d2sa([rot0, aug])

    def test_files_with_other_categories_do_not_merge(self, tmp_path):
        other = d2s_file(10)
        other['categories'] = D2S_CATEGORIES[:1]
        with pytest.raises(ValueError, match='categories differ'):
            convert_d2sa([write_source(tmp_path / 'a.json', d2s_file(1)),
                          write_source(tmp_path / 'b.json', other)])
