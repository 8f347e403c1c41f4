"""What every converter to the canonical amodal format (docs/annotation_format.md) shares.

A converter maps the field names of its source format onto a canonical annotation, validates it
with :func:`~mmorcnn.datasets.amodal_format.parse_amodal_annotation` (the one validator of the
format) and writes it back with :func:`canonical_annotation`. What the release states is kept:
its visible and invisible masks, its ``occlude_rate``, its stuff flag and its depth order. Only
what it does not state is derived (a missing invisible mask as amodal AND NOT visible, a missing
rate as invisible area / amodal area). Where a stated value disagrees with the masks (an
invisible mask that is not amodal AND NOT visible beyond :data:`INVISIBLE_TOLERANCE_PIXELS`, a
rate off by more than :data:`RATE_TOLERANCE`) the stated value is kept and the disagreement
counted in the converter's summary and in the output's ``info['disagreements']``.
:func:`add_occluder_ids` writes every instance's ``occluder_ids`` by the one occlusion rule of
:mod:`mmorcnn.structures.occlusion_order`, directed by the stated order where there is one.

Source errors are :class:`AmodalAnnotationError` naming the source file, the image id and the
annotation (or region) and the problem; with ``on_error='skip'`` they are counted by reason in a
:class:`SkipCounter` instead.
"""
import json
import os
import os.path as osp
import re
import warnings
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from mmorcnn.datasets.amodal_format import (AmodalAnnotationError, index_images,  # noqa: F401
                                            parse_amodal_annotation, read_coco_json)
from mmorcnn.datasets import statistics as _statistics
from mmorcnn.datasets.statistics import OcclusionStatistics, dataset_statistics
from mmorcnn.structures.mask_utils import rle_and_not, rle_area, rle_intersect
from mmorcnn.structures.occlusion_order import occluder_ids, rle_occluders
from mmorcnn.utils import text_table

ON_ERROR_CHOICES = ('raise', 'skip')

#: A stated invisible mask counts as disagreeing with amodal AND NOT visible when more pixels
#: than this differ (annotators draw the parts separately, so borders may differ by a few).
INVISIBLE_TOLERANCE_PIXELS = 4
#: A stated ``occlude_rate`` counts as disagreeing with invisible area / amodal area when it is
#: off by more than this.
RATE_TOLERANCE = 1e-3
#: How many disagreements :class:`SkipCounter` keeps word for word for the summary.
MAX_EXAMPLES = 5


def annotation_image(ann: dict, images: Dict[int, dict], src_file: str) -> dict:
    """The image record of ``ann``; an error naming the annotation when there is none."""
    if not isinstance(ann, dict):
        raise AmodalAnnotationError(src_file, None, None, f'annotation {ann!r} is no object')
    if ann.get('image_id') not in images:
        raise AmodalAnnotationError(src_file, ann.get('image_id'), ann.get('id'),
                                    "'image_id' names no image of the file")
    return images[ann['image_id']]


class SkipCounter:
    """What a conversion left out, counted by reason, and the stated values it kept although
    they disagree with the masks.

    Args:
        on_error (str): ``'raise'`` re-raises every error given to :meth:`error`; ``'skip'``
            counts it. Defaults to ``'raise'``.

    Attributes:
        reasons (Counter): Items left out, by reason.
        first_errors (list[str]): The first skipped errors, word for word.
        disagreements (Counter): Stated values kept although the masks say otherwise, by kind.
        disagreement_examples (list[str]): The first of them, naming file, image and annotation.
    """

    def __init__(self, on_error: str = 'raise') -> None:
        if on_error not in ON_ERROR_CHOICES:
            raise ValueError(f'on_error must be one of {ON_ERROR_CHOICES}, not {on_error!r}')
        self.on_error = on_error
        self.reasons: Counter = Counter()
        self.first_errors: List[str] = []
        self.disagreements: Counter = Counter()
        self.disagreement_examples: List[str] = []

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` items left out on purpose (e.g. stuff regions with ``--no-stuff``)."""
        if count:
            self.reasons[reason] += count

    def error(self, error: AmodalAnnotationError) -> None:
        """Raise ``error`` or count it under its reason with numbers replaced by ``N``."""
        if self.on_error == 'raise':
            raise error
        if len(self.first_errors) < MAX_EXAMPLES:
            self.first_errors.append(str(error))
        self.reasons['invalid: ' + re.sub(r'-?\d+(\.\d+)?', 'N', error.reason)] += 1

    def disagree(self, kind: str, example: str) -> None:
        """Count a stated value that was kept although the masks disagree with it.

        Args:
            kind (str): What disagrees, the row of the summary.
            example (str): This case, naming file, image and annotation, with the numbers.
        """
        self.disagreements[kind] += 1
        if len(self.disagreement_examples) < MAX_EXAMPLES:
            self.disagreement_examples.append(example)

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


def _xor_area(a: dict, b: dict) -> int:
    """Pixels in exactly one of two RLEs of the same size."""
    area_a, area_b, both = rle_area([a, b, rle_intersect(a, b)])
    return int(area_a + area_b - 2 * both)


def canonical_annotation(parsed: dict,
                         stated: dict,
                         log: SkipCounter,
                         src_file: str,
                         where,
                         segmentation=None,
                         **extra) -> dict:
    """A canonical JSON annotation that keeps what the source states.

    Args:
        parsed (dict): :func:`parse_source_annotation` of ``stated``: its masks are the stated
            ones, a missing invisible mask derived as amodal AND NOT visible, a missing visible
            mask as amodal (AND NOT invisible), a missing ``occlude_rate`` as invisible area /
            amodal area.
        stated (dict): The source annotation in canonical field names, which says what was
            stated (``visible_mask``, ``invisible_mask``, ``occlude_rate``).
        log (SkipCounter): Where disagreements between stated values and masks are counted.
        src_file (str): The source file, for the disagreement examples.
        where: The annotation in the source file (its id or ``'<id> region <k>'``).
        segmentation (list | dict, optional): The amodal segmentation to write, e.g. source
            polygons, which may leave the image. Defaults to None, the RLE of the amodal mask.
        **extra: More fields (``order``, ``isstuff``, ...); ``None`` values are left out. The
            parsed ``order`` / ``occluder_ids`` are kept unless ``extra`` sets them.

    Returns:
        dict: ``id``, ``image_id``, ``category_id``, ``iscrowd`` (an int), ``segmentation``,
        ``bbox`` and ``area`` of the amodal mask, ``occlude_rate`` (stated, else derived),
        ``invisible_mask`` (unless empty and equal to amodal AND NOT visible) and
        ``visible_mask`` (unless it is the whole amodal mask and no invisible mask is written)
        as RLEs: a part is left out only where the loader's default restores it exactly. Disagreements counted in ``log``: a stated invisible mask
        that differs from amodal AND NOT visible in more than
        :data:`INVISIBLE_TOLERANCE_PIXELS` pixels (only when both parts are stated), a stated
        rate more than :data:`RATE_TOLERANCE` off the kept invisible area / amodal area; and
        the loader's repairs (``parsed['repairs']``: a degenerate polygon part dropped, a part
        clipped to the amodal mask) under ``repaired: <kind>``.
    """
    amodal, visible, invisible = parsed['amodal'], parsed['visible'], parsed['invisible']
    area = parsed['area']
    invisible_area = float(rle_area([invisible])[0])
    here = f"{src_file}: image {parsed['image_id']}, annotation {where}"
    differ = _xor_area(invisible, rle_and_not(amodal, visible))
    if 'visible_mask' in stated and 'invisible_mask' in stated:
        if differ > INVISIBLE_TOLERANCE_PIXELS:
            log.disagree(f'stated invisible_mask != amodal AND NOT visible (> '
                         f'{INVISIBLE_TOLERANCE_PIXELS} px)',
                         f'{here}: invisible_mask differs from amodal AND NOT visible in '
                         f'{differ} pixels')
    for repair in parsed.get('repairs', ()):  # see amodal_format: dropped parts, clipped masks
        log.disagree(f"repaired: {repair.split(':')[0]}", f'{here}: {repair}')
    mask_rate = invisible_area / area
    if stated.get('occlude_rate') is not None and \
            abs(float(stated['occlude_rate']) - mask_rate) > RATE_TOLERANCE:
        log.disagree(f'stated occlude_rate off invisible / amodal area by > {RATE_TOLERANCE:g}',
                     f"{here}: occlude_rate {stated['occlude_rate']} but invisible / amodal "
                     f'area = {mask_rate:.6f}')
    ann = dict(
        id=parsed['id'],
        image_id=parsed['image_id'],
        category_id=parsed['category_id'],
        iscrowd=int(parsed['iscrowd']),
        segmentation=amodal if segmentation is None else segmentation,
        bbox=parsed['bbox'],
        area=area,
        occlude_rate=parsed['occlude_rate'])
    # Left out only where the loader's default gives the same mask back.
    write_invisible = bool(invisible_area or differ)
    if write_invisible or _xor_area(visible, amodal):
        ann['visible_mask'] = visible
    if write_invisible:
        ann['invisible_mask'] = invisible
    kept = {key: parsed[key] for key in ('order', 'occluder_ids') if key in parsed}
    ann.update({key: value for key, value in {**kept, **extra}.items() if value is not None})
    return ann


def add_occluder_ids(anns: Sequence[dict],
                     parsed: Sequence[dict],
                     log: SkipCounter,
                     src_file: str,
                     clusters: Optional[Sequence] = None) -> None:
    """Write ``occluder_ids`` into the canonical annotations of one image.

    Which pairs of instances are in an occlusion relation is decided by the masks with the one
    rule of :func:`~mmorcnn.structures.occlusion_order.occlusion_graph` (the invisible part of
    one lies on the visible part of the other), the rule predictions are scored with. Where both
    instances of such a pair have a stated ``order`` (1 = front) that differs, the direction
    follows the stated order, which is kept; a pair whose masks say the opposite is counted.
    Pairs without two different stated orders keep the masks' direction (counted when the two
    orders are equal, or when the instances lie in different ``clusters``).

    Args:
        anns (Sequence[dict]): The image's canonical annotations, changed in place.
        parsed (Sequence[dict]): Their parsed forms (``visible`` / ``invisible`` RLEs).
        log (SkipCounter): Where disagreements are counted.
        src_file (str): The source file, for the disagreement examples.
        clusters (Sequence, optional): Per annotation, the group within which its ``order`` is
            ranked (KINS 2020's ``oco_id``); orders of different groups are not compared.
            Defaults to None: one group per image.
    """
    if not anns:
        return
    occluders = rle_occluders([p['visible'] for p in parsed], [p['invisible'] for p in parsed])
    orders = [ann.get('order') for ann in anns]
    groups = [None] * len(anns) if clusters is None else list(clusters)
    for i, j in zip(*np.nonzero(np.triu(occluders | occluders.T, 1))):
        pair = (f"{src_file}: image {anns[i]['image_id']}, annotations {anns[i]['id']} and "
                f"{anns[j]['id']}")
        if groups[i] != groups[j]:
            log.disagree('masks overlap across occlusion clusters (direction from the masks)',
                         f'{pair}: clusters {groups[i]} and {groups[j]}')
            continue
        if orders[i] is None or orders[j] is None:
            continue
        if orders[i] == orders[j]:
            log.disagree('overlapping instances with the same stated order (direction from '
                         'the masks)', f'{pair}: both have order {orders[i]}')
            continue
        front, back = (i, j) if orders[i] < orders[j] else (j, i)
        if not occluders[back, front]:
            log.disagree('masks hide the instance the stated order puts in front (order kept)',
                         f'{pair}: orders {orders[i]} and {orders[j]}')
        occluders[back, front], occluders[front, back] = True, False
    for ann, ids in zip(anns, occluder_ids([ann['id'] for ann in anns], occluders)):
        ann['occluder_ids'] = ids


def _deprecated(name: str, new: str) -> None:
    warnings.warn(f'mmorcnn.datasets.converters.common.{name} is deprecated and will be removed '
                  f'in the next release; use {new}', DeprecationWarning, stacklevel=3)


def annotations_by_image(dataset: dict) -> Dict[int, List[dict]]:
    """Deprecated: :func:`mmorcnn.datasets.statistics.annotations_by_image`."""
    _deprecated('annotations_by_image', 'mmorcnn.datasets.statistics.annotations_by_image')
    return _statistics.annotations_by_image(dataset)


def dataset_occlusion_statistics(dataset: dict) -> OcclusionStatistics:
    """Deprecated: :func:`mmorcnn.datasets.statistics.dataset_statistics`."""
    _deprecated('dataset_occlusion_statistics', 'mmorcnn.datasets.statistics.dataset_statistics')
    return dataset_statistics(dataset)


def write_json(data: dict, path: str) -> None:
    """Write ``data`` as JSON, creating the parent folder."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f)


def format_table(rows: Sequence[Tuple[str, ...]], header: Optional[Tuple[str, ...]] = None) -> str:
    """Deprecated: :func:`mmorcnn.utils.text_table.format_table`."""
    _deprecated('format_table', 'mmorcnn.utils.text_table.format_table')
    return text_table.format_table(rows, header=header or None)


def conversion_summary(dataset: dict,
                       skipped: SkipCounter,
                       extra_rows: Sequence[Tuple[str, object]] = (),
                       extra_text: Sequence[str] = ()) -> str:
    """The closing table of a converter: images, instances, occluded ones (by the stated
    ``occlude_rate``), skipped items by reason, stated values kept although the masks disagree,
    then ``extra_text`` (e.g. a comparison with the paper's counts)."""
    stats = dataset_statistics(dataset)
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
    if skipped.disagreements or 'disagreements' in dataset.get('info', {}):  # a release
        rows.append(('stated values kept that disagree with the masks',
                     sum(skipped.disagreements.values())))
        rows.extend((f'  {kind}', count) for kind, count in sorted(skipped.disagreements.items()))
    text = text_table.format_table(rows, header=('', 'count'))
    if skipped.first_errors:
        text += '\nfirst skipped errors:\n' + '\n'.join(f'  {e}' for e in skipped.first_errors)
    if skipped.disagreement_examples:
        text += '\nfirst disagreements:\n' + '\n'.join(
            f'  {e}' for e in skipped.disagreement_examples)
    for extra in extra_text:
        text += '\n\n' + extra
    return text


def write_and_summarize(dataset: dict,
                        skipped: SkipCounter,
                        out: str,
                        extra_rows: Sequence[Tuple[str, object]] = (),
                        extra_text: Sequence[str] = ()) -> None:
    """What a converter CLI ends with: write ``out`` and print the :func:`conversion_summary`."""
    write_json(dataset, out)
    print(f'\nWrote {out}')
    print(conversion_summary(dataset, skipped, extra_rows, extra_text))


def record_disagreements(dataset: dict, log: SkipCounter) -> dict:
    """Put the disagreement counts of ``log`` into ``dataset['info']['disagreements']`` (kept
    in the written file, so that a user can see them later); returns ``dataset``."""
    dataset.setdefault('info', {})['disagreements'] = dict(sorted(log.disagreements.items()))
    return dataset


def track(items: Sequence, progress: bool):
    """``items`` with an mmengine progress bar when ``progress`` is set."""
    if not progress or not len(items):
        return items
    from mmengine.utils import track_iter_progress
    return track_iter_progress(list(items))

