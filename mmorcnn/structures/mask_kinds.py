"""The kinds of instance mask and their names in each layer, in one table.

=========  ==========================  ===================================================
kind       ``InstanceData`` field      key in annotation files, results files and the
           (``gt_instances`` and       inferencer's JSON; the parsed annotations of
           ``pred_instances``)         :func:`~mmorcnn.datasets.load_amodal_coco` use the kind
=========  ==========================  ===================================================
amodal     ``masks``                   ``segmentation``
visible    ``visible_masks``           ``visible_mask``
invisible  ``invisible_masks``         ``invisible_mask``
occluder   ``occluder_masks``          (none: a training target derived from the others)
=========  ==========================  ===================================================

The amodal masks keep mmdet's names (``masks``, ``segmentation``), so that every mmdet part that
reads masks (mask targets, the data preprocessor, visualizers, COCO tools) reads the amodal ones.
An instance's occluder mask is the union of the visible masks of the instances that hide part
of it (``LoadAmodalAnnotations(with_occluder=True)``), a target of occluder-aware heads.
"""
from typing import NamedTuple, Optional, Tuple


class MaskKind(NamedTuple):
    """One kind of mask: its name, its ``InstanceData`` field and its file key (None: not
    stored in files)."""
    name: str
    field: str
    key: Optional[str]


#: The three kinds every instance has, amodal first.
MASK_KINDS: Tuple[MaskKind, ...] = (
    MaskKind('amodal', 'masks', 'segmentation'),
    MaskKind('visible', 'visible_masks', 'visible_mask'),
    MaskKind('invisible', 'invisible_masks', 'invisible_mask'),
)
#: The occluder masks of occluder-aware heads.
OCCLUDER_KIND = MaskKind('occluder', 'occluder_masks', None)
#: ``{kind name: MaskKind}`` of every kind.
MASK_KIND = {kind.name: kind for kind in (*MASK_KINDS, OCCLUDER_KIND)}
#: The ``InstanceData`` fields of every kind.
INSTANCE_MASK_FIELDS: Tuple[str, ...] = tuple(kind.field for kind in MASK_KIND.values())
