"""mmengine adapter of the amodal evaluation protocol (paper section 3.3, docs/metric.md).

The computation lives in :mod:`mmorcnn.evaluation.functional`; this class only turns mmdet's
prediction layout into RLEs during ``process`` and calls the core in ``compute_metrics``. It
derives from mmengine's ``BaseMetric`` rather than mmdet's ``CocoMetric``, because every method
of ``CocoMetric`` (pycocotools loading, ``results2json``, ``COCOeval`` calls) would have to be
replaced: the ground truth is read by mmorcnn's one loader of the canonical format and evaluated
by the vectorised core.

The ground truth follows the policy of the dataset it evaluates. The metric and the dataset each
load the annotation file (mmengine hands a metric nothing of its dataset but the ``metainfo``,
and the metric also runs without a dataset), so they must load it alike:
:class:`~mmorcnn.datasets.AmodalCocoDataset` puts its ``on_error`` and ``visible_tolerance`` into
its ``metainfo``, mmengine's validation and test loops give that to the metric as
``dataset_meta`` before the first batch, and a metric left at ``on_error=None`` /
``visible_tolerance=None`` loads the file with those settings then. A bad annotation that the
test dataset skips is therefore an ignored region in the evaluation too, not a crash.
"""
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.fileio import dump
from mmengine.logging import MMLogger, print_log
from mmengine.structures import BaseDataElement

from mmdet.registry import METRICS
from mmorcnn.datasets.amodal_format import (DEFAULT_PART_TOLERANCE, AmodalCoco,
                                            category_ids_of_classes, load_amodal_coco)
from mmorcnn.structures.mask_kinds import MASK_KINDS
from mmorcnn.structures.mask_utils import binary_masks, masks_to_rles, to_json_rle
from ..functional import AmodalDetections, evaluate_amodal, save_pr_arrays
from ..functional.amodal_table import report_amodal


def _encode_masks(masks, thr: Optional[float], what: str) -> Optional[List[dict]]:
    """Compressed RLEs (str counts) of ``(N, H, W)`` binary masks (soft ones binarised at
    ``thr`` or refused, see :func:`~mmorcnn.structures.mask_utils.binary_masks`), or of
    already encoded ones."""
    if masks is None:
        return None
    if isinstance(masks, (torch.Tensor, np.ndarray)):
        return masks_to_rles(binary_masks(masks, thr, what))
    return [to_json_rle(m) for m in masks]


def _numpy(values) -> np.ndarray:
    return values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else \
        np.asarray(values)


@METRICS.register_module()
class AmodalCocoMetric(BaseMetric):
    """Amodal AP / AR of ORCNN's paper: AP_AV, AP_A, AP_V on all and on occluded objects,
    AP_IV@0.5 on occluded objects, COCOA's things / stuff and occlusion-level breakdowns, and
    the keys of the later literature's protocols (AISFormer / VRSP-Net occlusion bins, COCO size
    bins, aistron's occluded AP).

    Build it with only ``dict(type='AmodalCocoMetric', ann_file=...)``. The result keys (with
    the default prefix ``amodal``) are listed by
    :func:`~mmorcnn.evaluation.functional.amodal_metric_keys`: ``amodal/AP_AV``, ``amodal/AP_A``,
    ``amodal/AP_V`` with ``_50`` / ``_75`` variants and ``amodal/AR_*``, the same with ``occ_``,
    ``amodal/occ_AP_IV50``, ``amodal/{none,partial,heavy}_{AP,AR}_A`` and, for ground truth with
    ``isstuff``, ``amodal/{things,stuff}_{AP,AR}_A``, the literature's
    ``amodal/occ{15,25,40}_AP_{A,V}``, ``amodal/AP_A_{s,m,l}``, ``amodal/occ_AP_IV`` and
    ``amodal/occ_AP_IV75`` (definitions in :mod:`mmorcnn.evaluation.functional.amodal_eval`),
    and the occlusion order
    ``amodal/order_acc`` / ``amodal/order_F1`` (the relations of the detections matched at
    IoU_A 0.5 against the ground truth's ``occluder_ids``, see
    :mod:`mmorcnn.evaluation.functional.occlusion_order_eval`). Values are fractions; -1 means
    not evaluable (no ground truth in the subset, no invisible masks predicted, no occlusion
    relation in the ground truth).

    ``process`` reads ``pred_instances.masks`` (amodal), ``.visible_masks`` and
    ``.invisible_masks`` (optional; a model without visible masks is evaluated with its amodal
    masks as visible ones), ``.scores``, ``.labels`` and ``.bboxes``, and keeps only RLEs.

    Args:
        ann_file (str): Annotation file in the canonical amodal format; all of its images are
            evaluated, as by mmdet's CocoMetric.
        class_agnostic (bool): Match detections to ground truth of any class. Defaults to False.
        classwise (bool): Also log and return per-class AP (keys ``{class}_AP_AV``, ...).
            Defaults to False.
        max_dets (int): Detections evaluated per image and class. Defaults to 100.
        things_stuff (bool, optional): Report the things / stuff split. Defaults to None:
            when the ground truth has ``isstuff``.
        occlusion_levels (bool): Report the none / partial / heavy breakdown. Defaults to True.
        literature_protocols (bool): Report the keys of the later literature's protocols
            (``occ15_AP_A``, ..., ``AP_A_s``, ..., ``occ_AP_IV``, ``occ_AP_IV75``). Defaults
            to True.
        format_only (bool): Only write the results file (``outfile_prefix`` must be set), do not
            evaluate. Defaults to False.
        outfile_prefix (str, optional): Write the results file ``{outfile_prefix}.amodal.json``
            (schema in :mod:`mmorcnn.evaluation.functional.amodal_results`). Defaults to None.
        on_error (str, optional): How the annotation loader treats bad annotations,
            ``'raise'`` or ``'skip'`` (a bad annotation becomes an ignored region, see
            :mod:`~mmorcnn.datasets.amodal_format`). Defaults to None: the setting of the
            evaluated dataset (``dataset_meta['on_error']``, module docstring), ``'raise'``
            where the dataset has none.
        visible_tolerance (float, optional): The loader's share of a visible or invisible mask
            allowed outside the amodal mask. Defaults to None: the evaluated dataset's
            (``dataset_meta['visible_tolerance']``), ``DEFAULT_PART_TOLERANCE`` where it has
            none.
        plot_dir (str, optional): Also write the precision and recall arrays of the evaluation
            to ``{plot_dir}/pr_curves.npz`` (:mod:`~mmorcnn.evaluation.functional.pr_arrays`),
            from which :class:`~mmorcnn.engine.AmodalPRCurvesHook` (in mmorcnn's default
            runtime config) draws the precision-recall curves of A, V, AV and occluded IV to
            ``{plot_dir}/pr_curves.png``; each evaluation overwrites both. Defaults to None.
        mask_thr_binary (float, optional): Threshold at which soft masks (those of a mask
            head run with ``test_cfg.rcnn.mask_thr_binary < 0``: grey levels 0-255 or
            probabilities) are binarised. Defaults to None: soft masks are refused with an
            error, binary masks are used as they are.
        backend_args (dict, optional): mmengine file backend arguments. Defaults to None.
        collect_device (str): Device for gathering results across ranks. Defaults to 'cpu'.
        prefix (str, optional): Prefix of the keys. Defaults to None, ``amodal``.
        collect_dir (str, optional): Directory for gathering on the CPU. Defaults to None.
    """
    default_prefix: Optional[str] = 'amodal'

    def __init__(self,
                 ann_file: str,
                 class_agnostic: bool = False,
                 classwise: bool = False,
                 max_dets: int = 100,
                 things_stuff: Optional[bool] = None,
                 occlusion_levels: bool = True,
                 literature_protocols: bool = True,
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 on_error: Optional[str] = None,
                 visible_tolerance: Optional[float] = None,
                 plot_dir: Optional[str] = None,
                 mask_thr_binary: Optional[float] = None,
                 backend_args: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        if format_only and outfile_prefix is None:
            raise ValueError('format_only=True writes the results file and needs outfile_prefix')
        self.class_agnostic = class_agnostic
        self.classwise = classwise
        self.max_dets = max_dets
        self.things_stuff = things_stuff
        self.occlusion_levels = occlusion_levels
        self.literature_protocols = literature_protocols
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self.plot_dir = plot_dir
        #: The arrays file of the last evaluation with ``plot_dir`` (None before).
        self.pr_arrays_file: Optional[str] = None
        self.mask_thr_binary = mask_thr_binary
        self.ann_file = ann_file
        self.backend_args = backend_args
        self.on_error = on_error
        self.visible_tolerance = visible_tolerance
        self._gt: Optional[AmodalCoco] = None
        self._gt_policy: Optional[Tuple[str, float]] = None
        if on_error is not None and visible_tolerance is not None:
            self._load_gt()

    @BaseMetric.dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        """Set ``dataset_meta`` (mmengine's loops do before the first batch) and load the ground
        truth with the policy it implies, so that a bad file stops the run before inference."""
        BaseMetric.dataset_meta.fset(self, dataset_meta)
        if self._gt_policy != self.gt_policy():
            self._load_gt()

    def gt_policy(self) -> Tuple[str, float]:
        """``(on_error, visible_tolerance)`` the ground truth is loaded with: the metric's own
        where set, else the evaluated dataset's (``dataset_meta``), else the loader's defaults."""
        meta = self.dataset_meta or {}
        on_error = self.on_error if self.on_error is not None else meta.get('on_error', 'raise')
        tolerance = self.visible_tolerance if self.visible_tolerance is not None else \
            meta.get('visible_tolerance', DEFAULT_PART_TOLERANCE)
        return on_error, tolerance

    @property
    def gt(self) -> AmodalCoco:
        """The ground truth of ``ann_file``, loaded by :meth:`gt_policy` (at the latest now)."""
        if self._gt is None:
            self._load_gt()
        return self._gt

    def _load_gt(self) -> None:
        on_error, tolerance = self._gt_policy = self.gt_policy()
        self._gt = load_amodal_coco(self.ann_file, on_error=on_error,
                                    visible_tolerance=tolerance, backend_args=self.backend_args)
        if self._gt.skipped:
            source = "the metric's" if self.on_error is not None else "the dataset's"
            print_log(f'AmodalCocoMetric evaluates {len(self._gt.ignored)} of the '
                      f'{len(self._gt.skipped)} skipped annotations of {self.ann_file} as ignored '
                      f'regions and leaves out the others (on_error={on_error!r}, {source} '
                      'setting)', logger='current', level=logging.WARNING)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep the predictions of a batch as RLEs (never full masks)."""
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            pred = sample['pred_instances']
            if 'masks' not in pred:
                raise KeyError('AmodalCocoMetric needs pred_instances.masks (the amodal masks)')
            self.results.append(dict(
                img_id=sample['img_id'],
                labels=_numpy(pred['labels']).astype(np.int64),
                scores=_numpy(pred['scores']).astype(np.float64),
                bboxes=_numpy(pred['bboxes']).astype(np.float64).reshape(-1, 4),
                **{kind.name: _encode_masks(pred.get(kind.field), self.mask_thr_binary,
                                            f'pred_instances.{kind.field}')
                   for kind in MASK_KINDS}))

    def _label_to_cat_id(self) -> np.ndarray:
        """Category id of each label: classes of ``dataset_meta`` by name, else file order."""
        classes = (self.dataset_meta or {}).get('classes')
        return np.array(category_ids_of_classes(self.gt.categories, classes, self.gt.ann_file),
                        dtype=np.int64)

    def results_to_detections(self, results: Sequence[dict]) -> AmodalDetections:
        """Join the per-image results of ``process`` (each image once) into one detection set."""
        cat_of_label = self._label_to_cat_id()
        parts, seen = [], set()
        for r in results:
            if r['img_id'] in seen:
                print_log(f'image {r["img_id"]} was predicted twice; the first prediction is '
                          'evaluated', logger='current', level=logging.WARNING)
                continue
            seen.add(r['img_id'])
            boxes = r['bboxes']
            parts.append(AmodalDetections(
                image_ids=np.full(len(r['scores']), r['img_id']),
                category_ids=cat_of_label[r['labels']],
                scores=r['scores'],
                amodal=r['amodal'],
                visible=r['visible'],
                invisible=r['invisible'],
                bboxes=np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)))
        return AmodalDetections.concat(parts)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Evaluate the gathered results; log the summary table (and the per-class table)."""
        logger: MMLogger = MMLogger.get_current_instance()
        detections = self.results_to_detections(results)
        if self.outfile_prefix is not None:
            out_file = f'{self.outfile_prefix}.amodal.json'
            dump(detections.to_json(), out_file)
            logger.info(f'amodal results written to {osp.abspath(out_file)}')
        if self.format_only:
            return {}

        cat_ids = sorted(set(self._label_to_cat_id().tolist()))
        evaluation = evaluate_amodal(
            self.gt.anns_by_image, self.gt.categories, detections, cat_ids=cat_ids,
            class_agnostic=self.class_agnostic, max_dets=self.max_dets,
            things_stuff=self.things_stuff, occlusion_levels=self.occlusion_levels,
            literature_protocols=self.literature_protocols, classwise=self.classwise,
            logger=logger)
        if self.plot_dir is not None:
            self.pr_arrays_file = save_pr_arrays(evaluation,
                                                 osp.join(self.plot_dir, 'pr_curves.npz'))
        return report_amodal(evaluation, logger)
