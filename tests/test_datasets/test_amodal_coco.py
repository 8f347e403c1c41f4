import os

import numpy as np
import pytest
from mmdet.registry import DATASETS, METRICS

from mmorcnn.datasets import AmodalAnnotationError
from mmorcnn.datasets.synthetic import generate_split
from mmorcnn.structures.mask_utils import rle_to_mask

TRAIN_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=[(60, 40), (120, 80)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAmodalDetInputs'),
]


def build(data_root, ann_file, **kwargs):
    cfg = dict(type='AmodalCocoDataset', data_root=data_root, ann_file=ann_file,
               data_prefix=dict(img='images/'), pipeline=[])
    cfg.update(kwargs)
    return DATASETS.build(cfg)


class TestAmodalCocoDataset:

    def test_classes_are_the_file_categories_unless_configured(self, write_dataset):
        dataset = build(*write_dataset())
        assert dataset.metainfo['classes'] == ('box', 'bar')
        assert dataset.cat2label == {3: 0, 7: 1}

    def test_metainfo_hands_the_loading_policy_to_the_metric(self, write_dataset):
        """mmengine's loops give the metric the dataset's metainfo; a metric without its own
        ``on_error`` / ``visible_tolerance`` loads the ground truth with the dataset's."""
        data_root, ann_file = write_dataset()
        dataset = build(data_root, ann_file, on_error='skip', visible_tolerance=0.3)
        assert (dataset.metainfo['on_error'], dataset.metainfo['visible_tolerance']) == \
            ('skip', 0.3)
        metric = METRICS.build(dict(type='AmodalCocoMetric', ann_file=ann_file))
        metric.dataset_meta = dataset.metainfo
        assert metric.gt_policy() == ('skip', 0.3)
        own = METRICS.build(dict(type='AmodalCocoMetric', ann_file=ann_file, on_error='raise'))
        own.dataset_meta = dataset.metainfo
        assert own.gt_policy() == ('raise', 0.3)

    def test_instances_carry_amodal_box_label_crowd_flag_and_three_masks(
            self, write_dataset, scene):
        data_root, ann_file = write_dataset()
        info = build(data_root, ann_file).get_data_info(0)
        assert info['img_path'] == os.path.join(data_root, 'images', 'scene.png')
        assert (info['img_id'], info['height'], info['width']) == (1, 40, 60)
        back, front, crowd = info['instances']
        assert back['bbox'] == [5.0, 5.0, 30.0, 25.0]
        assert [i['bbox_label'] for i in (back, front, crowd)] == [0, 1, 0]
        assert [i['ignore_flag'] for i in (back, front, crowd)] == [0, 0, 1]
        assert [i['ann_id'] for i in (back, front, crowd)] == [1, 2, 3]
        assert back['occlude_rate'] == pytest.approx(scene[1]['invisible'].sum() / 500)
        for key, part in (('mask', 'amodal'), ('visible_mask', 'visible'),
                          ('invisible_mask', 'invisible')):
            np.testing.assert_array_equal(rle_to_mask(back[key]), scene[1][part])

    def test_configured_classes_choose_labels_and_drop_other_categories(self, write_dataset):
        dataset = build(*write_dataset(), metainfo=dict(classes=('bar', 'box')))
        instances = dataset.get_data_info(0)['instances']
        assert [(i['ann_id'], i['bbox_label']) for i in instances] == [(1, 1), (2, 0), (3, 1)]
        only_bar = build(*write_dataset(), metainfo=dict(classes=('bar', )))
        assert [i['ann_id'] for i in only_bar.get_data_info(0)['instances']] == [2]

    def test_configured_class_missing_from_the_file_is_an_error(self, write_dataset):
        with pytest.raises(ValueError, match=r"classes \['cat'\] are not among"):
            build(*write_dataset(), metainfo=dict(classes=('box', 'cat')))

    def test_filter_empty_gt_drops_images_without_instances(self, write_dataset):
        dataset = build(*write_dataset(), filter_cfg=dict(filter_empty_gt=True))
        assert len(dataset) == 1 and dataset.get_data_info(0)['img_id'] == 1
        assert len(build(*write_dataset())) == 2

    def test_missing_image_file_error_names_file_and_image(self, write_dataset):
        data_root, ann_file = write_dataset()
        os.remove(os.path.join(data_root, 'images', 'empty.png'))
        with pytest.raises(AmodalAnnotationError,
                           match=r'ann.json: image 2: image file .*empty.png not found'):
            build(data_root, ann_file)

    def test_bad_annotation_error_names_file_image_and_annotation(self, write_dataset):
        data_root, ann_file = write_dataset(
            lambda c: c['annotations'][1].update(segmentation=[[0, 0, 5, 5]]))
        with pytest.raises(AmodalAnnotationError,
                           match=r'ann.json: image 1, annotation 2: no polygon with at least 3 points '
                                 r'\(polygon 0 has 2 points'):
            build(data_root, ann_file)

    def test_skip_mode_ignores_bad_annotations_and_leaves_out_missing_images(
            self, write_dataset):
        data_root, ann_file = write_dataset(
            lambda c: c['annotations'][1].update(category_id=99))
        os.remove(os.path.join(data_root, 'images', 'empty.png'))
        dataset = build(data_root, ann_file, on_error='skip')
        assert len(dataset) == 1
        instances = dataset.get_data_info(0)['instances']
        # the bad annotation stays as an ignored region of each category, like a crowd region
        assert [(i['ann_id'], i['bbox_label'], i['ignore_flag']) for i in instances] == [
            (1, 0, 0), (2, 0, 1), (2, 1, 1), (3, 0, 1)]
        assert [(image_id, ann_id) for image_id, ann_id, _ in dataset.skipped] == [(1, 2),
                                                                                   (2, None)]

    def test_training_samples_have_aligned_amodal_visible_and_invisible_masks(
            self, write_dataset):
        dataset = build(*write_dataset(), pipeline=TRAIN_PIPELINE,
                        filter_cfg=dict(filter_empty_gt=True))
        for _ in range(4):
            sample = dataset[0]['data_samples']
            gt = sample.gt_instances
            assert len(gt) == 2 and len(sample.ignored_instances) == 1
            assert gt.masks.masks.shape[1:] == sample.img_shape
            np.testing.assert_array_equal(gt.invisible_masks.masks,
                                          gt.masks.masks & (1 - gt.visible_masks.masks))

    def test_generated_synthetic_data_loads_without_skips(self, tmp_path):
        generate_split(str(tmp_path), 'val', num_images=3, seed=0)
        dataset = DATASETS.build(
            dict(type='AmodalCocoDataset', data_root=str(tmp_path),
                 ann_file='annotations/val.json', data_prefix=dict(img='val/'),
                 pipeline=TRAIN_PIPELINE))
        assert len(dataset) == 3 and dataset.skipped == []
        for index in range(3):
            gt = dataset[index]['data_samples'].gt_instances
            assert len(gt) > 0
            np.testing.assert_array_equal(gt.invisible_masks.masks,
                                          gt.masks.masks & (1 - gt.visible_masks.masks))
