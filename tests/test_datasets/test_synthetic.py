"""The embedded synthetic amodal dataset: exact masks, occlusion variety, determinism, CLI."""
import json
import os.path as osp
import subprocess
import sys
from collections import defaultdict

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from mmorcnn.datasets.synthetic import (CLASSES, PARTIAL_MAX, SyntheticAmodalSpec,
                                        camera_view_mask, generate_split,
                                        generate_synthetic_amodal)
from mmorcnn.structures import occluder_ids, occlusion_graph
from mmorcnn.structures.mask_utils import rle_to_bbox, rle_to_mask
from mmorcnn.structures.occlusion_order import MIN_PIXELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPEC = SyntheticAmodalSpec()


def _load(root, split='train'):
    with open(osp.join(root, 'annotations', f'{split}.json')) as f:
        return json.load(f)


def _masks(ann):
    return {key: rle_to_mask(ann[key]).astype(bool)
            for key in ('segmentation', 'visible_mask', 'invisible_mask')}


@pytest.fixture(scope='module')
def synthetic_set(tmp_path_factory):
    """60 training images of the default scenes, with every annotation's decoded masks."""
    root = str(tmp_path_factory.mktemp('synthetic'))
    stats = generate_synthetic_amodal(root, num_train=60, num_val=0, seed=0)
    coco = _load(root)
    by_image = defaultdict(list)
    for ann in coco['annotations']:
        by_image[ann['image_id']].append((ann, _masks(ann)))
    return dict(root=root, coco=coco, by_image=by_image, stats=stats['train'])


def _all(data):
    return [pair for pairs in data['by_image'].values() for pair in pairs]


def test_same_seed_gives_identical_json_and_pixels(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    for root in (a, b):
        generate_synthetic_amodal(root, num_train=5, num_val=2, seed=3)
    for split in ('train', 'val'):
        with open(osp.join(a, 'annotations', f'{split}.json'), 'rb') as fa, \
                open(osp.join(b, 'annotations', f'{split}.json'), 'rb') as fb:
            assert fa.read() == fb.read()
        for img in _load(a, split)['images']:
            pixels_a = cv2.imread(osp.join(a, split, img['file_name']), cv2.IMREAD_UNCHANGED)
            pixels_b = cv2.imread(osp.join(b, split, img['file_name']), cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(pixels_a, pixels_b)


def test_different_seed_gives_different_data(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    generate_split(a, 'train', 3, seed=0)
    generate_split(b, 'train', 3, seed=1)
    assert _load(a)['annotations'] != _load(b)['annotations']
    pixels_a = cv2.imread(osp.join(a, 'train', '000000.png'))
    pixels_b = cv2.imread(osp.join(b, 'train', '000000.png'))
    assert not np.array_equal(pixels_a, pixels_b)


def test_image_does_not_depend_on_split_size(tmp_path):
    small, large = str(tmp_path / 'small'), str(tmp_path / 'large')
    generate_split(small, 'train', 2, seed=0)
    generate_split(large, 'train', 4, seed=0)
    ids_small = {a['id'] for a in _load(small)['annotations']}
    same_ids = [a for a in _load(large)['annotations'] if a['id'] in ids_small]
    assert same_ids == _load(small)['annotations']
    for name in ('000000.png', '000001.png'):
        np.testing.assert_array_equal(
            cv2.imread(osp.join(small, 'train', name)), cv2.imread(osp.join(large, 'train', name)))


def test_invisible_is_amodal_and_not_visible(synthetic_set):
    for _, m in _all(synthetic_set):
        assert not (m['visible_mask'] & ~m['segmentation']).any()
        np.testing.assert_array_equal(m['invisible_mask'],
                                      m['segmentation'] & ~m['visible_mask'])


def test_visible_masks_are_disjoint_per_image(synthetic_set):
    for pairs in synthetic_set['by_image'].values():
        coverage = sum(m['visible_mask'].astype(int) for _, m in pairs)
        assert coverage.max() <= 1


def test_visible_is_amodal_minus_front_amodals_and_out_of_view(synthetic_set):
    view = camera_view_mask(SPEC)
    for pairs in synthetic_set['by_image'].values():
        assert sorted(a['order'] for a, _ in pairs) == list(range(1, len(pairs) + 1))
        for ann, m in pairs:
            front = [fm['segmentation'] for fa, fm in pairs if fa['order'] < ann['order']]
            covered = np.logical_or.reduce(front) if front else np.zeros_like(view)
            np.testing.assert_array_equal(m['visible_mask'], m['segmentation'] & ~covered & view)


def test_occluder_ids_follow_the_one_occlusion_rule(synthetic_set):
    """GT relations mean exactly what predictions are scored on: occlusion_graph of the masks."""
    related = 0
    for pairs in synthetic_set['by_image'].values():
        ids = [a['id'] for a, _ in pairs]
        graph = occlusion_graph(np.stack([m['segmentation'] for _, m in pairs]),
                                np.stack([m['visible_mask'] for _, m in pairs]))
        expected = occluder_ids(ids, graph.occluders)
        order = {a['id']: a['order'] for a, _ in pairs}
        for (ann, m), hidden_by in zip(pairs, expected):
            assert ann['occluder_ids'] == hidden_by
            for occluder in hidden_by:  # painted in front, and really on the hidden part
                assert order[occluder] < ann['order']
                front = next(fm for fa, fm in pairs if fa['id'] == occluder)
                assert (front['visible_mask'] & m['invisible_mask']).sum() >= MIN_PIXELS
            related += len(hidden_by)
    assert related > 0


def test_occlude_rate_area_and_bbox_match_masks(synthetic_set):
    for ann, m in _all(synthetic_set):
        amodal_area = m['segmentation'].sum()
        assert ann['area'] == amodal_area
        assert ann['occlude_rate'] == pytest.approx(m['invisible_mask'].sum() / amodal_area)
        ys, xs = np.nonzero(m['segmentation'])
        assert ann['bbox'] == [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                               ys.max() - ys.min() + 1]
        assert ann['bbox'] == rle_to_bbox(ann['segmentation'])


def test_amodal_masks_lie_inside_the_stored_image(synthetic_set):
    """No amodal mask touches the outermost pixels, so none was truncated by the image."""
    size = SPEC.image_size
    for img in synthetic_set['coco']['images']:
        assert (img['height'], img['width']) == (size, size)
    for _, m in _all(synthetic_set):
        amodal = m['segmentation']
        assert amodal.shape == (size, size)
        assert not (amodal[0].any() or amodal[-1].any() or amodal[:, 0].any()
                    or amodal[:, -1].any())


def test_outside_the_camera_view_is_black_and_invisible(synthetic_set):
    outside = ~camera_view_mask(SPEC)
    for img in synthetic_set['coco']['images']:
        pixels = cv2.imread(osp.join(synthetic_set['root'], 'train', img['file_name']))
        assert pixels.shape == (img['height'], img['width'], 3)
        assert not pixels[outside].any()
        assert pixels[~outside].mean() > 30
    for _, m in _all(synthetic_set):
        assert not (m['visible_mask'] & outside).any()


def test_some_objects_are_cut_by_the_view_border(synthetic_set):
    outside = ~camera_view_mask(SPEC)
    cut_images = {a['image_id'] for a, m in _all(synthetic_set)
                  if (m['segmentation'] & outside).any()}
    num_images = len(synthetic_set['coco']['images'])
    assert 0.05 * num_images <= len(cut_images) <= 0.35 * num_images
    assert synthetic_set['stats']['border_cut_images'] == len(cut_images)


def test_occlusion_ranges_from_none_to_heavy_with_a_visible_part_left(synthetic_set):
    rates = np.array([a['occlude_rate'] for a, _ in _all(synthetic_set)])
    assert (rates == 0).mean() > 0.2
    assert ((rates > 0) & (rates <= PARTIAL_MAX)).mean() > 0.15
    assert (rates > PARTIAL_MAX).mean() > 0.15
    assert rates.max() <= SPEC.max_occlude_rate
    for _, m in _all(synthetic_set):
        assert m['visible_mask'].sum() >= SPEC.min_visible_area


def test_every_class_is_present_with_ids_one_to_six(synthetic_set):
    coco = synthetic_set['coco']
    assert [(c['id'], c['name']) for c in coco['categories']] == list(
        enumerate(('disc', 'square', 'triangle', 'star', 'cross', 'hexagon'), start=1))
    assert {a['category_id'] for a in coco['annotations']} == set(range(1, len(CLASSES) + 1))
    counts = [sum(a['category_id'] == i for a in coco['annotations']) for i in range(1, 7)]
    assert synthetic_set['stats']['instances_per_class'] == counts


def test_objects_per_image_and_sizes_within_spec(synthetic_set):
    counts = [len(synthetic_set['by_image'][img['id']]) for img in synthetic_set['coco']['images']]
    assert 1 <= min(counts) and max(counts) <= SPEC.max_objects
    assert np.mean(counts) > 3
    for ann, _ in _all(synthetic_set):
        extent = max(ann['bbox'][2:])
        assert 0.5 * SPEC.min_object_size <= extent <= SPEC.max_object_size * SPEC.max_aspect_jitter


def test_annotations_follow_the_canonical_format(synthetic_set):
    coco = synthetic_set['coco']
    ids = [a['id'] for a in coco['annotations']]
    assert len(ids) == len(set(ids))
    image_ids = {img['id'] for img in coco['images']}
    for ann in coco['annotations']:
        assert ann['iscrowd'] == 0 and ann['image_id'] in image_ids
        for key in ('segmentation', 'visible_mask', 'invisible_mask'):
            assert isinstance(ann[key]['counts'], str)
            assert ann[key]['size'] == [SPEC.image_size, SPEC.image_size]
    assert coco['info']['seed'] == 0
    assert coco['info']['params']['view_size'] == SPEC.view_size


def test_cli_writes_the_mmdet_coco_layout(tmp_path):
    out = tmp_path / 'data'
    # Run from outside the repository: the tool imports the installed package.
    result = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'make_synthetic_amodal.py'),
        str(out), '--num-train', '4', '--num-val', '2'
    ], cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'mean occ. rate' in result.stdout
    for split, num in (('train', 4), ('val', 2)):
        coco = COCO(str(out / 'annotations' / f'{split}.json'))
        assert len(coco.getImgIds()) == num
        for img in coco.loadImgs(coco.getImgIds()):
            assert (out / split / img['file_name']).is_file()
        assert len(coco.getAnnIds()) >= 2 * num
