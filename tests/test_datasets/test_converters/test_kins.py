"""KINS v1 and KINS 2020 to the canonical format."""
import os.path as osp

import numpy as np
import pytest

from mmorcnn.datasets.amodal_format import AmodalAnnotationError, load_amodal_coco
from mmorcnn.datasets.converters import convert_kins, write_json
from mmorcnn.structures.mask_utils import mask_to_rle, rle_to_mask

from .sources import box_polygon, image_record, rect
from .sources import write_json as write_source

KINS_CATEGORIES = [dict(id=1, name='cyclist', supercategory='human'),
                   dict(id=2, name='pedestrian', supercategory='human'),
                   dict(id=4, name='car', supercategory='vehicle'),
                   dict(id=5, name='tram', supercategory='vehicle'),
                   dict(id=6, name='truck', supercategory='vehicle'),
                   dict(id=7, name='van', supercategory='vehicle'),
                   dict(id=8, name='misc', supercategory='vehicle')]
# A car (front) hides the right part of a van; the van's amodal polygon leaves the image on the
# left (x from -10), as KINS annotates objects cut by the border.
CAR = box_polygon(10, 30, 30, 50)
VAN = [-10, 5, 40, 5, 40, 25, -10, 25]
VAN_AMODAL_IN_IMAGE = rect(5, 25, 0, 40)
VAN_VISIBLE = VAN_AMODAL_IN_IMAGE & (1 - rect(10, 30, 30, 50))


def kins_v1() -> dict:
    """KINS v1 field names: segmentation / bbox amodal, inmodal_seg (RLE) / inmodal_bbox."""
    anns = [
        dict(id=1, image_id=1, category_id=4, iscrowd=0, segmentation=[CAR], bbox=[30, 10, 20, 20],
             area=400, inmodal_seg=mask_to_rle(rect(10, 30, 30, 50)),
             inmodal_bbox=[30, 10, 20, 20]),
        dict(id=2, image_id=1, category_id=7, iscrowd=0, segmentation=[VAN], bbox=[-10, 5, 50, 20],
             area=1000, inmodal_seg=mask_to_rle(VAN_VISIBLE), inmodal_bbox=[0, 5, 30, 20]),
    ]
    return dict(images=[image_record(1, '000001.png')], annotations=anns,
                categories=KINS_CATEGORIES)


def kins_2020() -> dict:
    """KINS 2020 field names: a_segm / a_bbox, i_segm / i_bbox (polygons), oco_id, ico_id."""
    anns = [
        dict(id=1, image_id=1, category_id=4, iscrowd=0, a_segm=[CAR], a_bbox=[30, 10, 20, 20],
             a_area=400, i_segm=[CAR], i_bbox=[30, 10, 20, 20], i_area=400, oco_id=1, ico_id=1),
        dict(id=2, image_id=1, category_id=7, iscrowd=0, a_segm=[VAN], a_bbox=[-10, 5, 50, 20],
             a_area=1000, i_segm=[box_polygon(5, 25, 0, 30), box_polygon(5, 10, 30, 40)],
             i_bbox=[0, 5, 40, 20], i_area=650, oco_id=1, ico_id=2),
    ]
    return dict(images=[image_record(1, '000001.png')], annotations=anns,
                categories=KINS_CATEGORIES)


@pytest.fixture(params=['v1', '2020'])
def release(request):
    return request.param


@pytest.fixture
def write_kins(tmp_path, release):
    """Factory: write the release's fixture (optionally edited) and return its path."""

    def write(edit=None):
        data = kins_v1() if release == 'v1' else kins_2020()
        if edit is not None:
            edit(data)
        return write_source(tmp_path / f'kins_{release}.json', data)

    return write


class TestConvertKins:

    def test_amodal_and_visible_masks_of_both_releases(self, write_kins):
        dataset, skipped = convert_kins(write_kins())
        car, van = dataset['annotations']
        assert car['occlude_rate'] == 0.0 and 'visible_mask' not in car
        np.testing.assert_array_equal(rle_to_mask(van['visible_mask']), VAN_VISIBLE)
        np.testing.assert_array_equal(rle_to_mask(van['invisible_mask']),
                                      VAN_AMODAL_IN_IMAGE & rect(10, 30, 30, 50))
        assert skipped.total == 0

    def test_release_categories_and_ids_are_kept(self, write_kins):
        dataset, _ = convert_kins(write_kins())
        assert dataset['categories'] == KINS_CATEGORIES
        assert [(a['id'], a['category_id']) for a in dataset['annotations']] == [(1, 4), (2, 7)]

    def test_amodal_polygon_leaving_the_image_is_kept_and_its_box_clipped(self, write_kins):
        van = convert_kins(write_kins())[0]['annotations'][1]
        assert van['segmentation'] == [VAN]
        assert van['bbox'] == [0.0, 5.0, 40.0, 20.0]
        assert van['area'] == float(VAN_AMODAL_IN_IMAGE.sum())

    def test_output_is_valid_canonical_format(self, write_kins, tmp_path):
        out = str(tmp_path / 'train.json')
        write_json(convert_kins(write_kins())[0], out)
        van = load_amodal_coco(out).anns_by_image[1][1]
        np.testing.assert_array_equal(rle_to_mask(van['visible']), VAN_VISIBLE)


class TestKins2020Fields:

    def test_occlusion_cluster_and_order_pass_through(self, tmp_path):
        path = write_source(tmp_path / 'kins.json', kins_2020())
        car, van = convert_kins(path)[0]['annotations']
        assert (car['oco_id'], car['ico_id'], van['oco_id'], van['ico_id']) == (1, 1, 1, 2)

    def test_ico_id_becomes_the_order_and_occluders_follow_it(self, tmp_path):
        dataset, log = convert_kins(write_source(tmp_path / 'kins.json', kins_2020()))
        car, van = dataset['annotations']
        assert (car['order'], van['order']) == (1, 2)
        assert (car['occluder_ids'], van['occluder_ids']) == ([], [1])
        assert not log.disagreements

    def test_ico_id_0_overlaps_nothing_and_states_no_order(self, tmp_path):
        data = kins_2020()
        data['annotations'].append(dict(
            id=3, image_id=1, category_id=2, iscrowd=0, a_segm=[box_polygon(31, 38, 2, 8)],
            a_bbox=[2, 31, 6, 7], i_segm=[box_polygon(31, 38, 2, 8)], i_bbox=[2, 31, 6, 7],
            oco_id=0, ico_id=0))
        pedestrian = convert_kins(write_source(tmp_path / 'kins.json', data))[0][
            'annotations'][2]
        assert 'order' not in pedestrian and pedestrian['occluder_ids'] == []

    def test_order_against_the_masks_is_kept_and_counted(self, tmp_path):
        data = kins_2020()
        data['annotations'][0]['ico_id'], data['annotations'][1]['ico_id'] = 2, 1
        dataset, log = convert_kins(write_source(tmp_path / 'kins.json', data))
        car, van = dataset['annotations']
        assert (car['order'], van['order']) == (2, 1)
        assert (car['occluder_ids'], van['occluder_ids']) == ([2], [])
        assert log.disagreements == {
            'masks hide the instance the stated order puts in front (order kept)': 1}

    def test_overlap_across_clusters_keeps_the_masks_direction_and_is_counted(self, tmp_path):
        data = kins_2020()
        data['annotations'][1]['oco_id'] = 2
        dataset, log = convert_kins(write_source(tmp_path / 'kins.json', data))
        assert dataset['annotations'][1]['occluder_ids'] == [1]
        assert log.disagreements == {
            'masks overlap across occlusion clusters (direction from the masks)': 1}

    @pytest.mark.parametrize('ico_id', [-1, 1.5, '2', True])
    def test_ico_id_of_the_wrong_type_is_named(self, tmp_path, ico_id):
        data = kins_2020()
        data['annotations'][1]['ico_id'] = ico_id
        path = write_source(tmp_path / 'kins.json', data)
        with pytest.raises(AmodalAnnotationError,
                           match="image 1, annotation 2: 'ico_id' must be a non-negative"):
            convert_kins(path)


class TestKinsV1Occluders:

    def test_occluders_come_from_the_masks(self, tmp_path):
        car, van = convert_kins(write_source(tmp_path / 'kins.json', kins_v1()))[0][
            'annotations']
        assert 'order' not in van
        assert (car['occluder_ids'], van['occluder_ids']) == ([], [1])


class TestMalformedKins:

    def test_missing_visible_field_is_named(self, write_kins, release):
        def edit(data):
            data['annotations'][1].pop('inmodal_seg' if release == 'v1' else 'i_segm')

        path = write_kins(edit)
        with pytest.raises(AmodalAnnotationError,
                           match=f'{path}: image 1, annotation 2: neither KINS v1 fields'):
            convert_kins(path)

    def test_visible_mask_of_the_wrong_size_is_named(self, tmp_path):
        data = kins_v1()
        data['annotations'][1]['inmodal_seg'] = mask_to_rle(np.ones((20, 60), np.uint8))
        path = write_source(tmp_path / 'kins.json', data)
        with pytest.raises(AmodalAnnotationError,
                           match=r'image 1, annotation 2: visible_mask: RLE size \[20, 60\]'):
            convert_kins(path)

    def test_unknown_image_id_is_named(self, write_kins):
        def edit(data):
            data['annotations'][0]['image_id'] = 3

        with pytest.raises(AmodalAnnotationError,
                           match="image 3, annotation 1: 'image_id' names no image"):
            convert_kins(write_kins(edit))

    def test_category_of_the_wrong_type_is_named(self, write_kins):
        def edit(data):
            data['annotations'][0]['category_id'] = '4'

        with pytest.raises(AmodalAnnotationError,
                           match="image 1, annotation 1: unknown category id '4'"):
            convert_kins(write_kins(edit))

    def test_polygon_of_the_wrong_type_is_named(self, write_kins, release):
        def edit(data):
            data['annotations'][0]['segmentation' if release == 'v1' else 'a_segm'] = 'car'

        with pytest.raises(AmodalAnnotationError, match='image 1, annotation 1: segmentation of '
                           'type str'):
            convert_kins(write_kins(edit))

    def test_image_size_of_the_wrong_type_is_named(self, write_kins):
        def edit(data):
            data['images'][0]['height'] = '40'

        path = write_kins(edit)
        with pytest.raises(AmodalAnnotationError,
                           match=f"{path}: image 1: height '40' is not a positive integer"):
            convert_kins(path)

    def test_duplicate_annotation_id_is_named(self, write_kins):
        def edit(data):
            data['annotations'][1]['id'] = 1

        with pytest.raises(AmodalAnnotationError, match='annotation 1: annotation id used twice'):
            convert_kins(write_kins(edit))

    def test_skip_mode_keeps_the_valid_annotations(self, write_kins):
        def edit(data):
            data['annotations'][0]['image_id'] = 3

        dataset, skipped = convert_kins(write_kins(edit), on_error='skip')
        assert [a['id'] for a in dataset['annotations']] == [2]
        assert skipped.reasons == {"invalid: 'image_id' names no image of the file": 1}


KINS_DATASET_CONFIG = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', '_base_',
                               'datasets', 'kins.py')
RIDER = dict(id=3, name='rider', supercategory='human')


def kins_2020_with_rider() -> dict:
    """The 2020 files declare rider (3), which has no instance."""
    data = kins_2020()
    data['categories'] = sorted(KINS_CATEGORIES + [RIDER], key=lambda c: c['id'])
    return data


class TestKinsAsPublished:
    """The config's 7 classes map to the release's non-contiguous ids in both releases, and the
    2020 files' rider (no instance) changes no number."""

    @pytest.fixture
    def converted(self, tmp_path, release):
        data = kins_v1() if release == 'v1' else kins_2020_with_rider()
        out = str(tmp_path / 'test.json')
        write_json(convert_kins(write_source(tmp_path / f'kins_{release}.json', data))[0], out)
        return out

    def test_config_classes_are_the_published_ids(self, converted):
        from mmdet.registry import DATASETS
        from mmengine.config import Config

        import mmorcnn  # noqa: F401
        metainfo = Config.fromfile(KINS_DATASET_CONFIG).val_dataloader.dataset.metainfo
        dataset = DATASETS.build(dict(type='AmodalCocoDataset', ann_file=converted,
                                      metainfo=metainfo, test_mode=True, pipeline=[],
                                      check_image_files=False))
        assert dataset.cat2label == {1: 0, 2: 1, 4: 2, 5: 3, 6: 4, 7: 5, 8: 6}
        labels = [i['bbox_label'] for i in dataset.get_data_info(0)['instances']]
        assert labels == [2, 5]  # car, van

    def test_rider_without_instances_leaves_the_mean_unchanged(self, converted):
        from mmengine.config import Config
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        from mmorcnn.datasets.amodal_format import category_ids_of_classes
        from mmorcnn.evaluation.functional import AmodalDetections, evaluate_amodal
        gt = load_amodal_coco(converted)
        classes = Config.fromfile(KINS_DATASET_CONFIG).val_dataloader.dataset.metainfo.classes
        car, van = gt.anns_by_image[1]
        # a good car, a van detection of the car's mask, a misc false positive
        fp = mask_to_rle(rect(32, 38, 2, 9))
        dets = AmodalDetections([1, 1, 1], [4, 7, 8], [0.9, 0.8, 0.7],
                                [car['amodal'], car['amodal'], fp],
                                [car['visible'], car['visible'], fp])
        seven = evaluate_amodal(gt.anns_by_image, gt.categories, dets, logger='silent',
                                cat_ids=category_ids_of_classes(gt.categories, classes,
                                                                converted)).metrics
        every = evaluate_amodal(gt.anns_by_image, gt.categories, dets, logger='silent').metrics
        assert seven == every
        coco = COCO(converted)
        ev = COCOeval(coco, coco.loadRes(dets.to_json()), 'segm')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        assert every['AP_A'] == pytest.approx(ev.stats[0], abs=1e-12)
        assert every['AP_A'] == pytest.approx(0.5, abs=1e-9)  # car found, van missed
