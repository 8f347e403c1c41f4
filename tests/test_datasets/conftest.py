"""A tiny amodal scene and its annotation file in the canonical format, for the dataset tests.

Two rectangles on a 40x60 image: ``back`` (category ``box``, id 3) is partly hidden by ``front``
(category ``bar``, id 7), and a crowd region of category ``box`` lies apart from both.
"""
import copy
import json

import cv2
import numpy as np
import pytest
from mmdet.utils import register_all_modules

from mmorcnn.structures.mask_utils import mask_to_rle

from .amodal_scene import CATEGORIES, HEIGHT, WIDTH, rect

register_all_modules()  # dataset pipelines resolve transform names in the mmdet scope, as in a run


def make_scene() -> dict:
    """Amodal / visible / invisible masks of the scene's instances, by annotation id."""
    back, front, crowd = rect(5, 25, 5, 30), rect(15, 35, 20, 50), rect(30, 38, 2, 11)
    return {
        1: dict(amodal=back, visible=back & (1 - front), invisible=back & front),
        2: dict(amodal=front, visible=front, invisible=np.zeros_like(front)),
        3: dict(amodal=crowd, visible=crowd, invisible=np.zeros_like(crowd)),
    }


def make_coco_dict(scene: dict) -> dict:
    """The scene as a canonical annotation file's content; polygons for the front object."""
    back, crowd = scene[1], scene[3]
    annotations = [
        dict(id=1, image_id=1, category_id=3, iscrowd=0, segmentation=mask_to_rle(back['amodal']),
             visible_mask=mask_to_rle(back['visible']), order=2, occluder_ids=[2]),
        dict(id=2, image_id=1, category_id=7, iscrowd=0,
             segmentation=[[20, 15, 50, 15, 50, 35, 20, 35]]),
        dict(id=3, image_id=1, category_id=3, iscrowd=1, segmentation=mask_to_rle(crowd['amodal'])),
    ]
    images = [dict(id=1, file_name='scene.png', height=HEIGHT, width=WIDTH),
              dict(id=2, file_name='empty.png', height=HEIGHT, width=WIDTH)]
    return dict(images=images, annotations=annotations, categories=copy.deepcopy(CATEGORIES))


def write_files(root, content: dict):
    """Write random images and ``annotations/ann.json``; return ``(data_root, ann_file)``."""
    (root / 'images').mkdir(exist_ok=True)
    (root / 'annotations').mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for img in content['images']:
        pixels = rng.integers(0, 255, (img.get('height', HEIGHT), img.get('width', WIDTH), 3),
                              dtype=np.uint8)
        cv2.imwrite(str(root / 'images' / img['file_name']), pixels)
    ann_file = root / 'annotations' / 'ann.json'
    ann_file.write_text(json.dumps(content))
    return str(root), str(ann_file)


@pytest.fixture
def scene() -> dict:
    return make_scene()


@pytest.fixture
def coco_dict(scene) -> dict:
    return make_coco_dict(scene)


@pytest.fixture
def write_dataset(tmp_path, coco_dict):
    """Factory: ``write_dataset(edit)`` calls ``edit(content)`` on a copy of the scene's file
    content, writes it with the images under tmp_path and returns ``(data_root, ann_file)``."""

    def write(edit=None):
        content = copy.deepcopy(coco_dict)
        if edit is not None:
            edit(content)
        return write_files(tmp_path, content)

    return write


@pytest.fixture(scope='session')
def loaded_results(tmp_path_factory):
    """Factory: the pipeline results of the scene image after LoadImageFromFile and
    LoadAmodalAnnotations (a fresh dict on each call)."""
    from mmdet.registry import DATASETS

    data_root, ann_file = write_files(tmp_path_factory.mktemp('scene'),
                                      make_coco_dict(make_scene()))
    dataset = DATASETS.build(
        dict(type='AmodalCocoDataset', data_root=data_root, ann_file=ann_file,
             data_prefix=dict(img='images/'),
             pipeline=[dict(type='LoadImageFromFile'),
                       dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True)]))
    return lambda: dataset.pipeline(dataset.get_data_info(0))
