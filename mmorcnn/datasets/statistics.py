"""Image and occlusion statistics of a canonical amodal dataset, the rows of the paper's Table 5.

The one place where a dataset's occlusion is counted: the statistics tool, the converters'
summaries and the synthetic dataset's split table all read an :class:`OcclusionStatistics` of
:func:`occlusion_statistics`.

An object is an annotation that is not a crowd region; it is occluded when its ``occlude_rate``
(invisible area / amodal area) is above 0, and an image is occluded when it holds an occluded
object. The average occlusion rate per region is the mean ``occlude_rate`` over all objects and
over the occluded ones. An occluded object is heavily occluded above
:data:`~mmorcnn.structures.occlusion_levels.PARTIAL_MAX`, partially occluded up to it (the
occlusion levels of the metric).
"""
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Tuple, Union

from mmorcnn.datasets.amodal_format import load_amodal_coco
from mmorcnn.structures.occlusion_levels import PARTIAL_MAX


@dataclass(frozen=True)
class OcclusionStatistics:
    """Counts and occlusion rates of one dataset split (paper Table 5).

    Attributes:
        num_images (int): Images, with or without objects.
        num_images_occluded (int): Images with at least one occluded object.
        num_objects (int): Non-crowd annotations.
        num_objects_occluded (int): Objects with ``occlude_rate > 0``.
        mean_occlusion_all (float): Mean ``occlude_rate`` over all objects (0 without objects).
        mean_occlusion_occluded (float): Mean ``occlude_rate`` over the occluded objects.
        num_objects_heavy (int): Objects with ``occlude_rate > PARTIAL_MAX``.
        max_occlusion (float): The largest ``occlude_rate`` of an object (0 without objects).
    """
    num_images: int
    num_images_occluded: int
    num_objects: int
    num_objects_occluded: int
    mean_occlusion_all: float
    mean_occlusion_occluded: float
    num_objects_heavy: int
    max_occlusion: float

    @property
    def image_occlusion_rate(self) -> float:
        """Share of images that contain an occluded object."""
        return self.num_images_occluded / self.num_images if self.num_images else 0.

    @property
    def object_occlusion_rate(self) -> float:
        """Share of objects that are occluded."""
        return self.num_objects_occluded / self.num_objects if self.num_objects else 0.

    @property
    def num_objects_partial(self) -> int:
        """Occluded objects with ``occlude_rate <= PARTIAL_MAX``."""
        return self.num_objects_occluded - self.num_objects_heavy

    def to_dict(self) -> dict:
        """The values of Table 5 by attribute name, as ``dataset_stats.py --out`` writes them."""
        return {name: getattr(self, name) for name in TABLE5_FIELDS}


#: Table 5's row names and how each is read from an :class:`OcclusionStatistics`.
TABLE5_ROWS: Tuple[Tuple[str, str], ...] = (
    ('num imgs', 'num_images'),
    ('num imgs w/ occl', 'num_images_occluded'),
    ('img OR [%]', 'image_occlusion_rate'),
    ('num objs', 'num_objects'),
    ('num objs occl', 'num_objects_occluded'),
    ('obj OR [%]', 'object_occlusion_rate'),
    ('avg OR / reg (all) [%]', 'mean_occlusion_all'),
    ('avg OR / reg (occl) [%]', 'mean_occlusion_occluded'),
)


#: The attributes of :meth:`OcclusionStatistics.to_dict`, in the order it writes them.
TABLE5_FIELDS: Tuple[str, ...] = (
    'num_images', 'num_images_occluded', 'num_objects', 'num_objects_occluded',
    'mean_occlusion_all', 'mean_occlusion_occluded', 'image_occlusion_rate',
    'object_occlusion_rate')


#: Paper Table 5, column by column in the order of :data:`TABLE5_ROWS` (rates in whole percent as
#: printed there). ``modal aug`` is made with ``tools/dataset_converters/copy_paste_amodal.py``;
#: the test split's annotations are not public.
PAPER_TABLE5 = {
    'aug': ('1562', '1507', '96', '12376', '8798', '71', '23', '33'),
    'train rot0': ('438', '57', '13', '690', '66', '9', '0', '4'),
    'train': ('2000', '1564', '78', '13066', '8864', '68', '22', '33'),
    'val': ('3600', '2520', '70', '15654', '7473', '47', '8', '18'),
    'test': ('13020', '8976', '68', '49914', '21966', '44', '8', '18'),
    'modal aug': ('2000', '1930', '96', '15851', '11302', '71', '23', '33'),
}


def occlusion_statistics(anns_by_image: Mapping[int, Iterable[dict]]) -> OcclusionStatistics:
    """Statistics of ``{image id: [annotation, ...]}``; annotations need ``occlude_rate`` and
    may have ``iscrowd``, so raw canonical annotations and parsed ones both work."""
    num_images_occluded = 0
    rates: List[float] = []
    for anns in anns_by_image.values():
        image_rates = [float(a['occlude_rate']) for a in anns if not a.get('iscrowd', 0)]
        num_images_occluded += any(r > 0 for r in image_rates)
        rates.extend(image_rates)
    occluded = [r for r in rates if r > 0]
    return OcclusionStatistics(
        num_images=len(anns_by_image),
        num_images_occluded=num_images_occluded,
        num_objects=len(rates),
        num_objects_occluded=len(occluded),
        mean_occlusion_all=sum(rates) / len(rates) if rates else 0.,
        mean_occlusion_occluded=sum(occluded) / len(occluded) if occluded else 0.,
        num_objects_heavy=sum(r > PARTIAL_MAX for r in rates),
        max_occlusion=max(rates, default=0.))


def annotations_by_image(dataset: dict) -> Dict[int, List[dict]]:
    """``{image id: [annotation, ...]}`` for every image of a COCO-style dict."""
    by_image: Dict[int, List[dict]] = {img['id']: [] for img in dataset['images']}
    for ann in dataset['annotations']:
        by_image[ann['image_id']].append(ann)
    return by_image


def dataset_statistics(dataset: Union[str, dict], on_error: str = 'raise') -> OcclusionStatistics:
    """The statistics of a canonical dataset: an annotation file, loaded and validated by
    ``load_amodal_coco`` with ``on_error``, or a COCO-style dict held in memory (a converter's
    or generator's output), whose annotations are counted as they are."""
    if isinstance(dataset, dict):
        return occlusion_statistics(annotations_by_image(dataset))
    return occlusion_statistics(load_amodal_coco(dataset, on_error=on_error).anns_by_image)


def table5_rows(columns: Mapping[str, OcclusionStatistics]) -> List[Tuple[str, ...]]:
    """Table 5 as rows of strings: the row name, then one value per split in ``columns``;
    rates in percent with one decimal."""
    rows = []
    for name, attr in TABLE5_ROWS:
        values = []
        for stats in columns.values():
            value = getattr(stats, attr)
            values.append(f'{100 * value:.1f}' if name.endswith('[%]') else str(value))
        rows.append((name, *values))
    return rows

