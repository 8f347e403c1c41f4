"""Tiny amodal batches, RoI-head configs and FPN features for the model tests.

Every GT instance is a rectangle (its amodal mask) partly hidden by an occluder rectangle:
visible = amodal AND NOT occluder, invisible = amodal AND occluder, exactly what
PackAmodalDetInputs puts in ``gt_instances.masks``, ``.visible_masks`` and ``.invisible_masks``.
"""
import copy
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.structures import InstanceData

from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks

NUM_CLASSES = 3
CHANNELS = 16
STRIDES = (4, 8, 16, 32)

_RCNN_TRAIN = dict(
    assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0.5,
                  match_low_quality=True, ignore_iof_thr=-1),
    sampler=dict(type='RandomSampler', num=64, pos_fraction=0.25, neg_pos_ub=-1,
                 add_gt_as_proposals=True),
    mask_size=28, pos_weight=-1, debug=False)
_RCNN_TEST = dict(score_thr=0.0, nms=dict(type='nms', iou_threshold=0.5), max_per_img=20,
                  mask_thr_binary=0.5)


def _mask_head(type: str = 'AmodalMaskHead', **kwargs) -> dict:
    return dict(type=type, num_convs=2, in_channels=CHANNELS, conv_out_channels=CHANNELS,
                num_classes=NUM_CLASSES, **kwargs)


def roi_head_cfg(variant: str = 'orcnn', class_agnostic: bool = False) -> dict:
    """A small RoI head config.

    Args:
        variant (str): ``'mask-rcnn'`` (mmdet's StandardRoIHead + FCNMaskHead), ``'amodal'``
            (OcclusionRoIHead with only the amodal head), ``'orcnn'``, ``'wo-iv-loss'``,
            ``'wo-v-loss'`` or ``'independent'``.
        class_agnostic (bool): Class-agnostic mask predictors.
    """
    head = dict(
        type='OcclusionRoIHead',
        bbox_roi_extractor=dict(type='SingleRoIExtractor',
                                roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
                                out_channels=CHANNELS, featmap_strides=list(STRIDES)),
        bbox_head=dict(type='Shared2FCBBoxHead', in_channels=CHANNELS, fc_out_channels=32,
                       roi_feat_size=7, num_classes=NUM_CLASSES,
                       bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                                       target_stds=[0.1, 0.1, 0.2, 0.2]),
                       reg_class_agnostic=False,
                       loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                       loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        mask_roi_extractor=dict(type='SingleRoIExtractor',
                                roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
                                out_channels=CHANNELS, featmap_strides=list(STRIDES)),
        mask_head=_mask_head(mask_type='amodal', class_agnostic=class_agnostic),
        visible_mask_head=dict(type='AmodalMaskHead', mask_type='visible'),
        invisible_mask_head=dict(type='OcclusionMaskHead'),
        train_cfg=copy.deepcopy(_RCNN_TRAIN),
        test_cfg=copy.deepcopy(_RCNN_TEST))
    if variant == 'mask-rcnn':
        head.update(type='StandardRoIHead', mask_head=_mask_head('FCNMaskHead'))
    if variant in ('mask-rcnn', 'amodal'):
        del head['visible_mask_head'], head['invisible_mask_head']
    elif variant == 'wo-iv-loss':
        head['invisible_mask_head']['loss_mask'] = None
    elif variant == 'wo-v-loss':
        head['visible_mask_head']['loss_mask'] = None
    elif variant == 'independent':
        head['independent'] = True
    else:
        assert variant in ('orcnn', ), variant
    return head


def features(batch_size: int, size: int = 64, seed: int = 0) -> Tuple[torch.Tensor, ...]:
    """Random FPN features of a batch of ``size x size`` images."""
    gen = torch.Generator().manual_seed(seed)
    return tuple(
        torch.rand(batch_size, CHANNELS, size // s, size // s, generator=gen) for s in STRIDES)


def _rect(h: int, w: int, box: Sequence[int]) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    x1, y1, x2, y2 = box
    mask[y1:y2, x1:x2] = 1
    return mask


def data_samples(num_gts: Sequence[int],
                 size: int = 64,
                 scale_factor: Tuple[float, float] = (1.0, 1.0),
                 seed: int = 0) -> List[DetDataSample]:
    """One data sample per entry of ``num_gts``, with that many occluded rectangles.

    The network input is ``size x size``; ``ori_shape`` is that divided by ``scale_factor``.
    """
    rng = np.random.RandomState(seed)
    samples = []
    for img_id, num in enumerate(num_gts):
        amodal, visible, invisible, boxes = [], [], [], []
        for _ in range(num):
            x1, y1 = rng.randint(0, size // 2, 2)
            x2, y2 = x1 + rng.randint(12, size // 2), y1 + rng.randint(12, size // 2)
            ox, oy = rng.randint(x1, x2 - 4), rng.randint(y1, y2 - 4)
            mask = _rect(size, size, (x1, y1, x2, y2))
            occluder = _rect(size, size, (ox, oy, ox + 12, oy + 12))
            amodal.append(mask)
            visible.append(mask & (1 - occluder))
            invisible.append(mask & occluder)
            boxes.append([x1, y1, x2, y2])

        def bitmap(masks: list) -> BitmapMasks:
            return BitmapMasks(np.stack(masks) if masks else np.zeros((0, size, size), np.uint8),
                               size, size)

        sample = DetDataSample(
            metainfo=dict(
                img_id=img_id,
                img_shape=(size, size),
                pad_shape=(size, size),
                batch_input_shape=(size, size),
                ori_shape=(round(size / scale_factor[1]), round(size / scale_factor[0])),
                scale_factor=scale_factor))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            labels=torch.from_numpy(rng.randint(0, NUM_CLASSES, num)).long(),
            masks=bitmap(amodal),
            visible_masks=bitmap(visible),
            invisible_masks=bitmap(invisible))
        sample.ignored_instances = InstanceData(bboxes=torch.zeros(0, 4))
        samples.append(sample)
    return samples


def proposals(samples: List[DetDataSample],
              num_random: int = 30,
              seed: int = 0,
              boxes: Optional[List[torch.Tensor]] = None) -> List[InstanceData]:
    """RPN results: jittered GT boxes and random boxes (or the given ``boxes``), with scores."""
    gen = torch.Generator().manual_seed(seed)
    results = []
    for i, sample in enumerate(samples):
        if boxes is not None:
            bboxes = boxes[i]
        else:
            h, w = sample.img_shape
            gt = sample.gt_instances.bboxes
            jittered = gt + torch.randn(gt.shape, generator=gen) * 2
            xy = torch.rand(num_random, 2, generator=gen) * torch.tensor([w, h]) * 0.7
            wh = 8 + torch.rand(num_random, 2, generator=gen) * torch.tensor([w, h]) * 0.3
            bboxes = torch.cat([jittered, torch.cat([xy, xy + wh], 1)])
        results.append(InstanceData(bboxes=bboxes, scores=torch.rand(len(bboxes),
                                                                     generator=gen)))
    return results
