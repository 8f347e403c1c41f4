"""COCOA cls (paper 4.2): COCOA objects that take the category of a matching COCO instance."""
import numpy as np
import pytest

from mmorcnn.datasets.amodal_format import AmodalAnnotationError, load_amodal_coco
from mmorcnn.datasets.converters import convert_cocoa_cls, write_json
from mmorcnn.datasets.converters.cocoa_cls import PAPER_COUNTS, paper_comparison
from mmorcnn.structures.mask_utils import mask_to_rle

from .sources import box_polygon, image_record, rect
from .sources import write_json as write_source

COCO_CATEGORIES = [dict(id=1, name='person', supercategory='person'),
                   dict(id=44, name='bottle', supercategory='kitchen'),
                   dict(id=47, name='cup', supercategory='kitchen')]
SQUARE = rect(10, 14, 10, 14)  # 16 pixels: the COCO "cup" and the COCOA object's amodal mask


def visible_with(n_pixels: int) -> np.ndarray:
    """The first ``n_pixels`` pixels of SQUARE (row-major): IoU with SQUARE is n / 16."""
    visible = np.zeros_like(SQUARE)
    ys, xs = np.nonzero(SQUARE)
    visible[ys[:n_pixels], xs[:n_pixels]] = 1
    return visible


def cocoa_region(visible: np.ndarray, name: str = 'mug', is_stuff: int = 0, order: int = 1,
                 polygon=box_polygon(10, 14, 10, 14)) -> dict:
    # the default polygon covers 16 pixels; a larger visible mask is a fully visible object
    area = max(16., float(visible.sum()))
    region = dict(segmentation=polygon, name=name, isStuff=is_stuff, order=order, area=area,
                  occlude_rate=1 - visible.sum() / area)
    if visible.sum() < 16:
        region['visible_mask'] = mask_to_rle(visible)
    return region


def write_pair(tmp_path, regions_of_image, coco_anns, coco_images=None):
    """Write a COCOA file (one annotation per image) and a COCO instances file."""
    images = [image_record(i, f'COCO_val2014_{i:012d}.jpg') for i in regions_of_image]
    cocoa = dict(images=images, annotations=[
        dict(id=100 + i, image_id=i, regions=regions) for i, regions in regions_of_image.items()])
    coco = dict(images=images if coco_images is None else coco_images, annotations=coco_anns,
                categories=COCO_CATEGORIES)
    return (write_source(tmp_path / 'COCO_amodal_val2014.json', cocoa),
            write_source(tmp_path / 'instances_val2014.json', coco))


def coco_ann(ann_id, mask, category_id=47, iscrowd=0, image_id=1):
    return dict(id=ann_id, image_id=image_id, category_id=category_id, iscrowd=iscrowd,
                segmentation=mask_to_rle(mask), area=float(mask.sum()), bbox=[0, 0, 1, 1])


class TestIoUThreshold:

    @pytest.mark.parametrize('n_pixels, kept', [(12, False), (13, True), (16, True)])
    def test_object_is_kept_only_above_the_threshold(self, tmp_path, n_pixels, kept):
        files = write_pair(tmp_path, {1: [cocoa_region(visible_with(n_pixels))]},
                           [coco_ann(7, SQUARE)])
        dataset, skipped = convert_cocoa_cls(*files, iou_thr=0.75)
        assert len(dataset['annotations']) == int(kept)
        if not kept:  # IoU exactly 0.75 is not above the threshold
            assert skipped.reasons['low IoU (<= 0.75 with every COCO instance)'] == 1

    def test_threshold_is_configurable(self, tmp_path):
        files = write_pair(tmp_path, {1: [cocoa_region(visible_with(12))]},
                           [coco_ann(7, SQUARE)])
        assert len(convert_cocoa_cls(*files, iou_thr=0.7)[0]['annotations']) == 1
        assert len(convert_cocoa_cls(*files, iou_thr=0.8)[0]['annotations']) == 0


class TestMatching:

    def test_kept_object_takes_the_category_of_the_best_matching_instance(self, tmp_path):
        files = write_pair(tmp_path, {1: [cocoa_region(visible_with(16))]}, [
            coco_ann(7, visible_with(14), category_id=44),
            coco_ann(8, SQUARE, category_id=47),
        ])
        dataset, _ = convert_cocoa_cls(*files)
        (ann, ) = dataset['annotations']
        assert (ann['category_id'], ann['coco_id'], ann['coco_iou']) == (47, 8, 1.0)
        assert dataset['categories'] == COCO_CATEGORIES

    def test_each_coco_instance_is_matched_once_greedily_by_iou(self, tmp_path):
        """Arg-max would give both objects the cup (IoU 1 and 15/16); one-to-one, the mug
        takes the cup and the glass the bottle (IoU 14/15)."""
        files = write_pair(tmp_path, {1: [cocoa_region(visible_with(16), name='mug'),
                                          cocoa_region(visible_with(15), name='glass',
                                                       order=2)]},
                           [coco_ann(7, SQUARE, category_id=47),
                            coco_ann(8, visible_with(14), category_id=44)])
        dataset, skipped = convert_cocoa_cls(*files)
        assert [(a['name'], a['coco_id'], a['category_id']) for a in dataset['annotations']] \
            == [('mug', 7, 47), ('glass', 8, 44)]
        assert skipped.total == 0

    def test_object_losing_its_only_match_is_dropped_and_counted(self, tmp_path):
        files = write_pair(tmp_path, {1: [cocoa_region(visible_with(15), name='glass'),
                                          cocoa_region(visible_with(16), name='mug',
                                                       order=2)]},
                           [coco_ann(7, SQUARE)])
        dataset, skipped = convert_cocoa_cls(*files)
        assert [a['name'] for a in dataset['annotations']] == ['mug']
        assert skipped.reasons == {
            'matching only COCO instances taken by better-matching objects (IoU > 0.75)': 1}

    def test_occluders_that_are_no_cocoa_cls_objects_are_left_out(self, tmp_path):
        front = box_polygon(10, 14, 10, 14)
        behind_visible = rect(8, 16, 8, 16) & (1 - SQUARE)
        files = write_pair(tmp_path, {1: [
            cocoa_region(visible_with(16), name='mug', order=1, polygon=front),
            dict(segmentation=box_polygon(8, 16, 8, 16), name='plate', isStuff=0, order=2,
                 area=64.0, occlude_rate=0.25, visible_mask=mask_to_rle(behind_visible))]},
            [coco_ann(7, SQUARE), coco_ann(8, behind_visible, category_id=44)])
        plate, mug = (sorted(convert_cocoa_cls(*files)[0]['annotations'],
                             key=lambda a: a['name'])[k] for k in (1, 0))
        assert plate['occluder_ids'] == [mug['id']]
        only_plate = write_pair(tmp_path, {1: [
            cocoa_region(visible_with(16), name='mug', order=1, polygon=front),
            dict(segmentation=box_polygon(8, 16, 8, 16), name='plate', isStuff=0, order=2,
                 area=64.0, occlude_rate=0.25, visible_mask=mask_to_rle(behind_visible))]},
            [coco_ann(8, behind_visible, category_id=44)])
        (plate, ) = convert_cocoa_cls(*only_plate)[0]['annotations']
        assert plate['occluder_ids'] == []  # the mug is no COCOA cls object

    def test_counts_are_set_beside_the_papers(self, tmp_path):
        files = write_pair(tmp_path, {1: [cocoa_region(visible_with(16))],
                                      2: [cocoa_region(visible_with(16))]},
                           [coco_ann(7, SQUARE)])
        text = paper_comparison(convert_cocoa_cls(*files)[0])
        rows = {line.split('  ')[0]: line.split()[-2:] for line in text.splitlines()}
        assert rows['COCOA images'] == ['2', str(PAPER_COUNTS['cocoa']['images'])]
        assert rows['COCOA cls images'] == ['1', '3501']
        assert rows['COCOA cls objects'] == ['1', '10592']

    def test_amodal_and_visible_masks_stay_those_of_cocoa(self, tmp_path):
        files = write_pair(tmp_path, {1: [cocoa_region(visible_with(14))]},
                           [coco_ann(7, visible_with(14))])
        dataset, _ = convert_cocoa_cls(*files)
        out = str(tmp_path / 'cls.json')
        write_json(dataset, out)
        (parsed, ) = load_amodal_coco(out).anns_by_image[1]
        assert parsed['area'] == 16.0
        assert parsed['occlude_rate'] == pytest.approx(2 / 16)

    def test_stuff_and_crowd_matches_are_dropped_and_reported(self, tmp_path):
        crowd_region = rect(20, 30, 30, 40)
        files = write_pair(tmp_path, {
            1: [cocoa_region(visible_with(16), name='mug'),
                cocoa_region(visible_with(16), name='wall', is_stuff=1, order=2),
                cocoa_region(crowd_region, name='people', order=3,
                             polygon=box_polygon(20, 30, 30, 40))],
        }, [coco_ann(7, SQUARE), coco_ann(8, crowd_region, category_id=1, iscrowd=1)])
        dataset, skipped = convert_cocoa_cls(*files)
        assert [a['name'] for a in dataset['annotations']] == ['mug']
        assert skipped.reasons == {'stuff regions': 1,
                                   'matching only a COCO crowd region (IoU > 0.75)': 1}

    def test_images_without_a_matched_object_are_dropped_unless_asked(self, tmp_path):
        files = write_pair(tmp_path, {1: [cocoa_region(visible_with(16))],
                                      2: [cocoa_region(visible_with(16))]},
                           [coco_ann(7, SQUARE)])
        dataset, skipped = convert_cocoa_cls(*files)
        assert [img['id'] for img in dataset['images']] == [1]
        assert skipped.reasons['images without a matched object'] == 1
        kept_all, _ = convert_cocoa_cls(*files, keep_empty_images=True)
        assert [img['id'] for img in kept_all['images']] == [1, 2]


class TestMalformedCoco:

    def test_image_missing_from_coco_is_named(self, tmp_path):
        cocoa, coco = write_pair(tmp_path, {1: [cocoa_region(visible_with(16))]}, [],
                                 coco_images=[image_record(5)])
        with pytest.raises(AmodalAnnotationError,
                           match=f'{coco}: image 1: image of COCO_amodal_val2014.json is not'):
            convert_cocoa_cls(cocoa, coco)

    def test_coco_mask_of_the_wrong_size_is_named(self, tmp_path):
        big = np.zeros((50, 60), np.uint8)
        cocoa, coco = write_pair(tmp_path, {1: [cocoa_region(visible_with(16))]},
                                 [coco_ann(7, big)])
        with pytest.raises(AmodalAnnotationError,
                           match=f'{coco}: image 1, annotation 7: RLE size .50, 60. does not'):
            convert_cocoa_cls(cocoa, coco)

    def test_unknown_coco_category_is_named(self, tmp_path):
        cocoa, coco = write_pair(tmp_path, {1: [cocoa_region(visible_with(16))]},
                                 [coco_ann(7, SQUARE, category_id=3)])
        with pytest.raises(AmodalAnnotationError, match='image 1, annotation 7: unknown category'):
            convert_cocoa_cls(cocoa, coco)
