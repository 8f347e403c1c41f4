"""Time ORCNN's training data pipeline against mmdet's Mask R-CNN pipeline, side by side.

Both read the same generated images and the same instances: ``num_images`` JPEG images of
``height`` x ``width`` with ``objects`` objects each (random polygons in a random depth
order, so that many are partly hidden), written once to a temporary folder as

* a canonical amodal file (amodal polygons, visible and invisible RLEs) read by
  ``AmodalCocoDataset`` through ORCNN's training pipeline (by default the one of
  ``configs/_base_/datasets/amodal_instance.py``: LoadImageFromFile, LoadAmodalAnnotations, Resize
  to (1111, 800), RandomFlip, PackAmodalDetInputs), and
* a COCO instance file (the same amodal polygons) read by mmdet's ``CocoDataset`` through the same
  pipeline with mmdet's ``LoadAnnotations`` and ``PackDetInputs`` in place of the amodal ones,
  i.e. mmdet's Mask R-CNN pipeline (polygons decoded to bitmaps, ``poly2mask=True``).

One process; the two pipelines alternate image by image (ORCNN, Mask R-CNN, Mask R-CNN, ORCNN,
...) with the same random seed for each image, so both flip the same images and drifts in the
machine's load hit both alike. The tool prints the median time per image of every transform and
in all, and the ORCNN / Mask R-CNN ratio last.
"""
import copy
import json
import os.path as osp
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from typing import Dict, List, Optional

import cv2
import numpy as np
import pycocotools.mask as maskUtils
from mmdet.registry import DATASETS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.utils import ProgressBar

import mmorcnn  # noqa: F401  (registers the amodal transforms and dataset)
from mmorcnn.structures.mask_utils import mask_to_rle, segm_to_mask
from mmorcnn.utils import project_path
from .spread import Spread

#: The config whose training pipeline is timed by default: the real datasets' common pipeline.
DEFAULT_CONFIG = osp.join('configs', '_base_', 'datasets', 'amodal_instance.py')
# mmdet's counterparts of the amodal transforms, with the same arguments
MMDET_EQUIVALENT = dict(LoadAmodalAnnotations='LoadAnnotations',
                        PackAmodalDetInputs='PackDetInputs')


@dataclass
class PipelineBenchmarkSettings:
    """The generated data, the pipeline and the passes of the benchmark."""
    config: Optional[str] = None  # None: DEFAULT_CONFIG of the project
    height: int = 800
    width: int = 1100
    objects: int = 12  # per image
    num_images: int = 8  # distinct generated images
    repeats: int = 10  # timed passes over the images
    warmup: int = 1  # untimed passes first
    seed: int = 0


def random_polygon(rng: np.random.Generator, height: int, width: int) -> List[float]:
    """A star-shaped 24-gon of radius 4-25 % of the shorter side, anywhere in the image."""
    radius = rng.uniform(0.04, 0.25) * min(height, width)
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 24))
    radii = radius * rng.uniform(0.6, 1.0, 24)
    xs = np.clip(cx + radii * np.cos(angles), 0, width - 1)
    ys = np.clip(cy + radii * np.sin(angles), 0, height - 1)
    return np.stack([xs, ys], 1).ravel().round(2).tolist()


def write_data(root: str, settings: PipelineBenchmarkSettings) -> Dict[str, str]:
    """Images plus the canonical amodal file and the COCO file of the same instances."""
    rng = np.random.default_rng(settings.seed)
    h, w = settings.height, settings.width
    images, amodal_anns, coco_anns = [], [], []
    for image_id in range(1, settings.num_images + 1):
        file_name = f'{image_id:06d}.jpg'
        cv2.imwrite(osp.join(root, file_name),
                    cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (5, 5), 0))
        images.append(dict(id=image_id, file_name=file_name, height=h, width=w))
        polygons = [random_polygon(rng, h, w) for _ in range(settings.objects)]  # front to back
        amodal = [segm_to_mask([p], h, w) for p in polygons]
        covered = np.zeros((h, w), np.uint8)
        for i, (polygon, mask) in enumerate(zip(polygons, amodal)):
            visible = mask & (1 - covered)
            covered |= mask
            if not visible.any():
                continue  # hidden completely: not annotated (as in the real datasets)
            ann_id = len(coco_anns) + 1
            x, y, bw, bh = (float(v) for v in maskUtils.toBbox(maskUtils.encode(
                np.asfortranarray(mask))))
            ann = dict(id=ann_id, image_id=image_id, category_id=1 + i % 3, iscrowd=0,
                       segmentation=[polygon], bbox=[x, y, bw, bh], area=float(mask.sum()))
            coco_anns.append(ann)
            amodal_anns.append(dict(ann, visible_mask=mask_to_rle(visible),
                                    invisible_mask=mask_to_rle(mask & (1 - visible))))
    categories = [dict(id=i, name=f'class{i}') for i in (1, 2, 3)]
    files = {}
    for name, anns in (('amodal', amodal_anns), ('coco', coco_anns)):
        files[name] = osp.join(root, f'{name}.json')
        with open(files[name], 'w') as f:
            json.dump(dict(images=images, annotations=anns, categories=categories), f)
    print(f'{settings.num_images} images of {h}x{w}, {len(coco_anns)} instances '
          f'({len(coco_anns) / settings.num_images:.1f} per image; '
          f'{settings.objects * settings.num_images - len(coco_anns)} hidden completely, left out)')
    return files


def train_pipeline(config: str) -> List[dict]:
    cfg = Config.fromfile(config)
    pipeline = cfg.get('train_pipeline') or cfg.train_dataloader.dataset.pipeline
    return [dict(t) for t in pipeline]


def mmdet_pipeline(pipeline: List[dict]) -> List[dict]:
    """The same pipeline with mmdet's loading and packing transforms."""
    out = []
    for t in copy.deepcopy(pipeline):
        if t['type'] == 'LoadAmodalAnnotations':
            t.pop('target', None)
        t['type'] = MMDET_EQUIVALENT.get(t['type'], t['type'])
        out.append(t)
    return out


def time_sample(dataset, index: int, seed: int) -> Dict[str, float]:
    """Seconds of ``dataset[index]``: reading the data info, then every transform."""
    random.seed(seed)
    np.random.seed(seed)
    times = {}
    start = time.perf_counter()
    results = dataset.get_data_info(index)
    times['data info'] = time.perf_counter() - start
    for transform in dataset.pipeline.transforms:
        start = time.perf_counter()
        results = transform(results)
        times[type(transform).__name__] = time.perf_counter() - start
    times['all'] = sum(times.values())
    return times


def check_same_instances(datasets: dict, num_images: int) -> None:
    """Both pipelines give the same boxes and amodal masks for every image (same flips)."""
    for index in range(num_images):
        samples = []
        for dataset in datasets.values():
            random.seed(index)
            np.random.seed(index)
            samples.append(dataset[index]['data_samples'].gt_instances)
        orcnn, mrcnn = samples
        if not (np.array_equal(orcnn.masks.masks, mrcnn.masks.masks)
                and np.array_equal(orcnn.bboxes.numpy(), mrcnn.bboxes.numpy())):
            raise RuntimeError(f'image {index}: the two pipelines see different instances')


def run_benchmark_pipeline(settings: PipelineBenchmarkSettings) -> Dict[str, float]:
    """Time both pipelines on the same generated data (see the module docstring); print the
    median per transform, the median and spread in all, and the ORCNN / Mask R-CNN ratio of the
    same images last.

    Returns:
        dict: The median seconds per image of each pipeline, ``{'ORCNN': s, 'Mask R-CNN': s}``.
    """
    register_all_modules()
    pipeline = train_pipeline(settings.config or project_path(DEFAULT_CONFIG))
    with tempfile.TemporaryDirectory() as root:
        files = write_data(root, settings)
        common = dict(data_root=root, data_prefix=dict(img=''), filter_cfg=None)
        datasets = {
            'ORCNN': DATASETS.build(dict(type='AmodalCocoDataset', ann_file=files['amodal'],
                                         pipeline=pipeline, **common)),
            'Mask R-CNN': DATASETS.build(dict(
                type='CocoDataset', ann_file=files['coco'], pipeline=mmdet_pipeline(pipeline),
                metainfo=dict(classes=('class1', 'class2', 'class3')), **common)),
        }
        for name, dataset in datasets.items():
            steps = ', '.join(type(t).__name__ for t in dataset.pipeline.transforms)
            print(f'{name:<11} {steps}')
        check_same_instances(datasets, settings.num_images)
        samples: Dict[str, List[Dict[str, float]]] = {name: [] for name in datasets}
        progress = ProgressBar((settings.warmup + settings.repeats) * settings.num_images)
        for repeat in range(settings.warmup + settings.repeats):
            for index in range(settings.num_images):
                seed = settings.seed + repeat * settings.num_images + index
                names = list(datasets)
                if (repeat * settings.num_images + index) % 2:  # who goes first alternates too
                    names.reverse()
                for name in names:  # alternate image by image
                    times = time_sample(datasets[name], index, seed)
                    if repeat >= settings.warmup:
                        samples[name].append(times)
                progress.update()

    print(f'\nmedian ms per image over {settings.repeats} passes of {settings.num_images} images:')
    for name, runs in samples.items():
        steps = ', '.join(f'{step} {1000 * statistics.median(r[step] for r in runs):.1f}'
                          for step in runs[0] if step != 'all')
        print(f'  {name:<11} {steps}')
    print('ms per image in all: median (min-max, IQR)')
    for name, runs in samples.items():
        print(f'  {name:<11} {Spread.of([1000 * r["all"] for r in runs]).format(1)}')
    ratio = Spread.of([o['all'] / m['all']
                       for o, m in zip(samples['ORCNN'], samples['Mask R-CNN'])])
    print(f'ORCNN / Mask R-CNN pipeline, paired by image: {ratio.format()}')
    return {name: statistics.median(r['all'] for r in runs) for name, runs in samples.items()}
