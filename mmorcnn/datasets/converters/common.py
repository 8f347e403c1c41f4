"""What every converter to the canonical amodal format (DESIGN.md section 3) shares.

A converter maps the field names of its source format onto a canonical annotation, validates it
with :func:`~mmorcnn.datasets.amodal_format.parse_amodal_annotation` (the one validator of the
format) and writes it back with :func:`canonical_annotation`, which makes the three masks agree
exactly: visible inside amodal, invisible = amodal AND NOT visible, ``occlude_rate`` = invisible
area / amodal area. Source errors are :class:`AmodalAnnotationError` naming the source file, the
image id and the annotation (or region) and the problem; with ``on_error='skip'`` they are
counted by reason in a :class:`SkipCounter` instead.
"""
import json
import os
import os.path as osp
import re
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from mmorcnn.datasets.amodal_format import (AmodalAnnotationError, index_images,
                                            parse_amodal_annotation)
from mmorcnn.datasets.statistics import OcclusionStatistics, occlusion_statistics
from mmorcnn.structures.mask_utils import mask_to_rle, rle_to_bbox, rle_to_mask

ON_ERROR_CHOICES = ('raise', 'skip')


def read_coco_json(path: str, required: Sequence[str] = ('images', 'annotations')) -> dict:
    """Read a COCO-style JSON object and check that it has the ``required`` top-level keys."""
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a JSON object, got {type(data).__name__}')
    missing = [key for key in required if not isinstance(data.get(key), list)]
    if missing:
        raise ValueError(f'{path}: no list {missing} at the top level')
    return data


def annotation_image(ann: dict, images: Dict[int, dict], src_file: str) -> dict:
    """The image record of ``ann``; an error naming the annotation when there is none."""
    if not isinstance(ann, dict):
        raise AmodalAnnotationError(src_file, None, None, f'annotation {ann!r} is no object')
    if ann.get('image_id') not in images:
        raise AmodalAnnotationError(src_file, ann.get('image_id'), ann.get('id'),
                                    "'image_id' names no image of the file")
    return images[ann['image_id']]


class SkipCounter:
    """Items left out of a conversion, counted by reason.

    Args:
        on_error (str): ``'raise'`` re-raises every error given to :meth:`error`; ``'skip'``
            counts it. Defaults to ``'raise'``.
    """

    def __init__(self, on_error: str = 'raise') -> None:
        if on_error not in ON_ERROR_CHOICES:
            raise ValueError(f'on_error must be one of {ON_ERROR_CHOICES}, not {on_error!r}')
        self.on_error = on_error
        self.reasons: Counter = Counter()
        self.first_errors: List[str] = []

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` items left out on purpose (e.g. stuff regions with ``--no-stuff``)."""
        if count:
            self.reasons[reason] += count

    def error(self, error: AmodalAnnotationError) -> None:
        """Raise ``error`` or count it under its reason with numbers replaced by ``N``."""
        if self.on_error == 'raise':
            raise error
        if len(self.first_errors) < 5:
            self.first_errors.append(str(error))
        self.reasons['invalid: ' + re.sub(r'-?\d+(\.\d+)?', 'N', error.reason)] += 1

    @property
    def total(self) -> int:
        return sum(self.reasons.values())


def parse_source_annotation(raw: dict, img_info: dict, cat_ids: Iterable[int], src_file: str,
                            where) -> dict:
    """Validate a source annotation mapped onto canonical field names.

    ``where`` names the annotation in the source file (its id, or ``'<id> region <k>'``) and
    replaces the annotation id in the error, since the canonical ids are new.
    """
    try:
        return parse_amodal_annotation(raw, img_info, cat_ids, src_file)
    except AmodalAnnotationError as e:
        raise AmodalAnnotationError(src_file, img_info['id'], where, e.reason) from None


def annotation_from_masks(ann_id: int,
                          image_id: int,
                          category_id: int,
                          amodal: np.ndarray,
                          visible: np.ndarray,
                          iscrowd: int = 0,
                          segmentation=None,
                          **extra) -> dict:
    """A canonical JSON annotation whose three masks agree exactly.

    Args:
        ann_id (int): Annotation id.
        image_id (int): Image id.
        category_id (int): Category id.
        amodal (np.ndarray): ``(H, W)`` binary amodal mask, not empty.
        visible (np.ndarray): ``(H, W)`` binary visible mask; clipped to ``amodal``.
        iscrowd (int): COCO's crowd flag. Defaults to 0.
        segmentation (list | dict, optional): The amodal segmentation to write, e.g. source
            polygons, which may leave the image. Defaults to None, the RLE of ``amodal``.
        **extra: More fields (``order``, ``isstuff``, ...); ``None`` values are left out.

    Returns:
        dict: ``id``, ``image_id``, ``category_id``, ``iscrowd``, ``segmentation``, ``bbox`` and
        ``area`` of the amodal mask, ``occlude_rate`` = invisible area / amodal area and, for an
        occluded instance, ``visible_mask`` and ``invisible_mask`` = amodal AND NOT visible as
        RLEs (absent means fully visible).
    """
    amodal = amodal.astype(np.uint8)
    visible = visible.astype(np.uint8) & amodal
    invisible = amodal & (1 - visible)
    amodal_rle = mask_to_rle(amodal)
    area = float(amodal.sum())
    invisible_area = int(invisible.sum())
    ann = dict(
        id=ann_id,
        image_id=image_id,
        category_id=category_id,
        iscrowd=int(iscrowd),
        segmentation=amodal_rle if segmentation is None else segmentation,
        bbox=rle_to_bbox(amodal_rle),
        area=area,
        occlude_rate=invisible_area / area)
    if invisible_area:
        ann['visible_mask'] = mask_to_rle(visible)
        ann['invisible_mask'] = mask_to_rle(invisible)
    ann.update({key: value for key, value in extra.items() if value is not None})
    return ann


def canonical_annotation(parsed: dict, segmentation=None, **extra) -> dict:
    """:func:`annotation_from_masks` of a result of ``parse_amodal_annotation``; its ``order``
    and ``occluder_ids`` are kept unless ``extra`` sets them."""
    kept = {key: parsed[key] for key in ('order', 'occluder_ids') if key in parsed}
    return annotation_from_masks(parsed['id'], parsed['image_id'], parsed['category_id'],
                                 rle_to_mask(parsed['amodal']), rle_to_mask(parsed['visible']),
                                 parsed['iscrowd'], segmentation, **{**kept, **extra})


def annotations_by_image(dataset: dict) -> Dict[int, List[dict]]:
    """``{image id: [annotation, ...]}`` for every image of a COCO-style dict."""
    by_image: Dict[int, List[dict]] = {img['id']: [] for img in dataset['images']}
    for ann in dataset['annotations']:
        by_image[ann['image_id']].append(ann)
    return by_image


def dataset_occlusion_statistics(dataset: dict) -> OcclusionStatistics:
    """Table 5 statistics of a canonical dataset held in memory."""
    return occlusion_statistics(annotations_by_image(dataset))


def write_json(data: dict, path: str) -> None:
    """Write ``data`` as JSON, creating the parent folder."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f)


def format_table(rows: Sequence[Tuple[str, ...]], header: Optional[Tuple[str, ...]] = None) -> str:
    """Left-aligned first column, right-aligned others; a rule under the header."""
    table = ([header] if header else []) + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = [
        '  '.join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        for row in table
    ]
    if header:
        lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def conversion_summary(dataset: dict,
                       skipped: SkipCounter,
                       extra_rows: Sequence[Tuple[str, object]] = ()) -> str:
    """The closing table of a converter: images, instances, occluded ones, skipped by reason."""
    stats = dataset_occlusion_statistics(dataset)
    rows = [('images', stats.num_images),
            ('images with occlusion', stats.num_images_occluded),
            ('instances', stats.num_objects),
            ('occluded instances', stats.num_objects_occluded)]
    crowd = sum(int(ann.get('iscrowd', 0)) for ann in dataset['annotations'])
    if crowd:
        rows.append(('crowd regions (not counted as instances)', crowd))
    rows.extend(extra_rows)
    rows.append(('skipped', skipped.total))
    rows.extend((f'  {reason}', count) for reason, count in sorted(skipped.reasons.items()))
    text = format_table(rows, header=('', 'count'))
    if skipped.first_errors:
        text += '\nfirst skipped errors:\n' + '\n'.join(f'  {e}' for e in skipped.first_errors)
    return text


def write_and_summarize(dataset: dict,
                        skipped: SkipCounter,
                        out: str,
                        extra_rows: Sequence[Tuple[str, object]] = ()) -> None:
    """What a converter CLI ends with: write ``out`` and print the :func:`conversion_summary`."""
    write_json(dataset, out)
    print(f'\nWrote {out}')
    print(conversion_summary(dataset, skipped, extra_rows))


def track(items: Sequence, progress: bool):
    """``items`` with an mmengine progress bar when ``progress`` is set."""
    if not progress or not len(items):
        return items
    from mmengine.utils import track_iter_progress
    return track_iter_progress(list(items))

