"""Copy-paste amodal augmentation: exact masks for pasted and covered objects, both modes."""
import json
from collections import defaultdict

import cv2
import numpy as np
import pytest

from mmorcnn.datasets.amodal_format import load_amodal_coco
from mmorcnn.datasets.converters import write_json
from mmorcnn.datasets.copy_paste import CopyPasteSettings, generate_copy_paste
from mmorcnn.datasets.synthetic import camera_view_mask, generate_split
from mmorcnn.structures import occluder_ids, occlusion_graph
from mmorcnn.structures.mask_utils import mask_to_rle, rle_to_bbox, rle_to_mask

from .amodal_scene import HEIGHT, WIDTH, rect

# Source scenes (amodal masks). In image 1, C lies in front of B; E touches the border.
A, B, C = rect(5, 15, 5, 15), rect(20, 35, 10, 30), rect(25, 38, 20, 40)
D, E, F = rect(10, 25, 30, 50), rect(0, 10, 0, 10), rect(12, 28, 12, 28)
SCENES = {1: [(11, 1, A), (12, 2, B), (13, 1, C)], 2: [(21, 2, D), (22, 1, E)], 3: [(31, 2, F)],
          4: []}
UNOCCLUDED_INSIDE = {11, 13, 21, 31}  # B is occluded, E is cut by the border


def write_source(tmp_path, modal: bool = False):
    """Write the scenes' PNG images and a canonical file (``modal``: a plain COCO file with only
    modal masks); return ``(ann_file, img_dir)``."""
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    rng = np.random.default_rng(1)
    images, annotations = [], []
    for image_id, objects in SCENES.items():
        file_name = f'{image_id}.png'
        cv2.imwrite(str(img_dir / file_name),
                    rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8))
        images.append(dict(id=image_id, file_name=file_name, height=HEIGHT, width=WIDTH))
        for ann_id, category_id, amodal in objects:
            visible = amodal & (1 - C) if ann_id == 12 else amodal
            ann = dict(id=ann_id, image_id=image_id, category_id=category_id, iscrowd=0)
            if modal:
                ann['segmentation'] = mask_to_rle(visible)
            else:
                ann.update(segmentation=mask_to_rle(amodal), visible_mask=mask_to_rle(visible))
            annotations.append(ann)
    data = dict(images=images, annotations=annotations,
                categories=[dict(id=1, name='can'), dict(id=2, name='box')])
    ann_file = tmp_path / 'source.json'
    ann_file.write_text(json.dumps(data))
    return str(ann_file), str(img_dir)


def generate(tmp_path, ann_file, img_dir, **settings):
    """Run the augmentation, write its file and return ``(raw json, loaded, skipped, out_dir)``."""
    out_dir = str(tmp_path / 'aug')
    dataset, skipped, num_pasted = generate_copy_paste(ann_file, img_dir, out_dir,
                                                      CopyPasteSettings(**settings))
    out = str(tmp_path / 'aug.json')
    write_json(dataset, out)
    return dataset, load_amodal_coco(out), skipped, out_dir


def decoded(parsed_ann):
    return {key: rle_to_mask(parsed_ann[key]).astype(bool)
            for key in ('amodal', 'visible', 'invisible')}


def check_exact_masks(coco):
    """invisible == amodal AND NOT visible, visible inside amodal, visible masks disjoint."""
    for img in coco.images:
        cover = np.zeros((img['height'], img['width']), int)
        for ann in coco.anns_by_image[img['id']]:
            m = decoded(ann)
            np.testing.assert_array_equal(m['invisible'], m['amodal'] & ~m['visible'])
            assert not (m['visible'] & ~m['amodal']).any()
            assert ann['occlude_rate'] == pytest.approx(m['invisible'].sum() / m['amodal'].sum())
            cover += m['visible']
        assert cover.max() <= 1, f"visible masks of image {img['id']} overlap"


class TestAmodalMode:

    @pytest.fixture
    def augmented(self, tmp_path):
        ann_file, img_dir = write_source(tmp_path)
        return generate(tmp_path, ann_file, img_dir, num_images=12, objects_per_image=(2, 3),
                        seed=3) + (img_dir, )

    def test_invisible_is_amodal_and_not_visible_and_visible_masks_disjoint(self, augmented):
        check_exact_masks(augmented[1])

    def test_pasted_objects_are_the_occluders_by_the_one_rule(self, augmented):
        dataset, coco = augmented[:2]
        related = 0
        for img in coco.images:
            anns = coco.anns_by_image[img['id']]
            masks = [decoded(a) for a in anns]
            graph = occlusion_graph(np.stack([m['amodal'] for m in masks]),
                                    np.stack([m['visible'] for m in masks]))
            expected = occluder_ids([a['id'] for a in anns], graph.occluders)
            assert [a['occluder_ids'] for a in anns] == expected
            pasted = {a['id'] for a in anns if 'source_ann_id' in _raw(dataset, a['id'])}
            for ann, hidden_by in zip(anns, expected):
                if ann['id'] in pasted:  # in front of the background and of earlier pastes
                    assert all(j in pasted and j > ann['id'] for j in hidden_by)
                related += len(hidden_by)
        assert related > 0

    def test_only_unoccluded_objects_inside_their_image_are_pasted(self, augmented):
        dataset = augmented[0]
        pasted = {a['source_ann_id'] for a in dataset['annotations'] if 'source_ann_id' in a}
        assert pasted and pasted <= UNOCCLUDED_INSIDE
        assert augmented[2].reasons['not pasted: occluded objects (their hidden part has no '
                                    'pixels)'] == 1
        assert augmented[2].reasons['not pasted: objects touching the image border'] == 1

    def test_background_objects_keep_their_amodal_masks_and_lose_covered_pixels(
            self, augmented):
        dataset, coco = augmented[:2]
        source = {ann_id: amodal for objects in SCENES.values() for ann_id, _, amodal in objects}
        for img in dataset['images']:
            background = [a for a in coco.anns_by_image[img['id']]
                          if 'source_ann_id' not in _raw(dataset, a['id'])]
            pasted = [decoded(a)['amodal'] for a in coco.anns_by_image[img['id']]
                      if 'source_ann_id' in _raw(dataset, a['id'])]
            covered = np.any(pasted, axis=0) if pasted else np.zeros((HEIGHT, WIDTH), bool)
            for ann, (ann_id, _, amodal) in zip(background, SCENES[img['source_image_id']]):
                m = decoded(ann)
                np.testing.assert_array_equal(m['amodal'], source[ann_id].astype(bool))
                source_visible = amodal & (1 - C) if ann_id == 12 else amodal
                np.testing.assert_array_equal(m['visible'], source_visible.astype(bool) & ~covered)

    def test_pasted_pixels_are_the_source_object_pixels(self, augmented):
        dataset, coco, _, out_dir, img_dir = augmented
        for img in dataset['images']:
            pixels = cv2.imread(f"{out_dir}/{img['file_name']}")
            for ann in coco.anns_by_image[img['id']]:
                raw = _raw(dataset, ann['id'])
                if 'source_ann_id' not in raw:
                    continue
                src = cv2.imread(f"{img_dir}/{raw['source_image_id']}.png")
                src_amodal = dict((i, m) for i, _, m in SCENES[raw['source_image_id']])[
                    raw['source_ann_id']]
                sx, sy = (int(v) for v in rle_to_bbox(mask_to_rle(src_amodal))[:2])
                x, y = (int(v) for v in ann['bbox'][:2])
                ys, xs = np.nonzero(decoded(ann)['visible'])
                np.testing.assert_array_equal(pixels[ys, xs], src[ys - y + sy, xs - x + sx])

    def test_same_seed_gives_the_same_images(self, tmp_path, augmented):
        again = tmp_path / 'again'
        again.mkdir()
        ann_file, img_dir = str(tmp_path / 'source.json'), augmented[4]
        repeat = generate(again, ann_file, img_dir, num_images=12, objects_per_image=(2, 3),
                          seed=3)
        assert repeat[0]['annotations'] == augmented[0]['annotations']


def _raw(dataset, ann_id):
    return next(a for a in dataset['annotations'] if a['id'] == ann_id)


class TestOptions:

    def test_max_occlusion_bounds_the_occlusion_pastes_cause(self, tmp_path):
        ann_file, img_dir = write_source(tmp_path)
        _, coco, _, _ = generate(tmp_path, ann_file, img_dir, num_images=20,
                                 objects_per_image=(3, 5), max_occlusion=0.4)
        rates = [a['occlude_rate'] for anns in coco.anns_by_image.values() for a in anns]
        assert max(rates) <= 0.4 and max(rates) > 0

    def test_border_objects_are_pasted_when_allowed(self, tmp_path):
        ann_file, img_dir = write_source(tmp_path)
        dataset, _, _, _ = generate(tmp_path, ann_file, img_dir, num_images=30,
                                    objects_per_image=(3, 3), skip_border=False)
        pasted = {a.get('source_ann_id') for a in dataset['annotations']}
        assert 22 in pasted and 12 not in pasted

    def test_objects_per_image_and_num_images(self, tmp_path):
        ann_file, img_dir = write_source(tmp_path)
        dataset, _, skipped, out_dir = generate(tmp_path, ann_file, img_dir, num_images=5,
                                                objects_per_image=(2, 2), max_occlusion=1.0)
        assert len(dataset['images']) == 5
        per_image = defaultdict(int)
        for ann in dataset['annotations']:
            per_image[ann['image_id']] += 'source_ann_id' in ann
        assert set(per_image.values()) == {2}
        assert cv2.imread(f"{out_dir}/{dataset['images'][4]['file_name']}").shape == (40, 60, 3)

    def test_no_object_to_paste_is_an_error(self, tmp_path):
        ann_file, img_dir = write_source(tmp_path)
        with pytest.raises(ValueError, match='no object can be pasted'):
            generate(tmp_path, ann_file, img_dir, min_area=10_000)


class TestModalMode:

    @pytest.fixture
    def augmented(self, tmp_path):
        ann_file, img_dir = write_source(tmp_path, modal=True)
        return generate(tmp_path, ann_file, img_dir, mode='modal', num_images=12,
                        objects_per_image=(2, 3), seed=5)

    def test_only_objects_touching_nothing_are_pasted(self, augmented):
        dataset, _, skipped, _ = augmented
        pasted = {a['source_ann_id'] for a in dataset['annotations'] if 'source_ann_id' in a}
        assert pasted and pasted <= {11, 21, 31}  # B and C touch each other, E the border
        assert skipped.reasons['not pasted: objects touching another instance (outline '
                               'unknown)'] == 2

    def test_modal_masks_stand_for_amodal_masks_of_background_objects(self, augmented):
        dataset, coco = augmented[:2]
        for img in dataset['images']:
            if img['source_image_id'] != 1:
                continue
            book = decoded(coco.anns_by_image[img['id']][1])  # B, modal mask only
            np.testing.assert_array_equal(book['amodal'], (B & (1 - C)).astype(bool))

    def test_masks_are_exact(self, augmented):
        check_exact_masks(augmented[1])


class TestSyntheticDataset:

    @pytest.mark.parametrize('mode', ['amodal', 'modal'])
    def test_copy_paste_on_the_synthetic_dataset(self, tmp_path, mode):
        generate_split(str(tmp_path / 'synthetic'), 'train', 6, seed=0)
        dataset, coco, _, _ = generate(
            tmp_path, str(tmp_path / 'synthetic/annotations/train.json'),
            str(tmp_path / 'synthetic/train'), mode=mode, num_images=4, objects_per_image=(2, 3))
        assert len(coco.images) == 4
        assert any('source_ann_id' in a for a in dataset['annotations'])
        check_exact_masks(coco)

    def test_objects_are_not_pasted_on_the_zero_padding(self, tmp_path):
        generate_split(str(tmp_path / 'synthetic'), 'train', 6, seed=0)
        dataset, coco, _, _ = generate(
            tmp_path, str(tmp_path / 'synthetic/annotations/train.json'),
            str(tmp_path / 'synthetic/train'), num_images=6, objects_per_image=(3, 3))
        view = camera_view_mask().astype(bool)
        pasted = [a for anns in coco.anns_by_image.values() for a in anns
                  if 'source_ann_id' in _raw(dataset, a['id'])]
        assert pasted and all(not (decoded(a)['amodal'] & ~view).any() for a in pasted)
