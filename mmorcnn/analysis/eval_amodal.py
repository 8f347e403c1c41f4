"""Evaluate a saved amodal results file against an annotation file, as AmodalCocoMetric does.

The annotation file is in the canonical amodal format (docs/annotation_format.md); the results
file is the one ``AmodalCocoMetric(format_only=True, outfile_prefix=P)`` writes as
``P.amodal.json`` (schema in ``mmorcnn/evaluation/functional/amodal_results.py``). Both files are
validated first; a bad one raises an ``AmodalAnnotationError`` / ``AmodalResultsError`` naming
the file, the image, annotation or entry, and what is wrong.
"""
import json
import os.path as osp
import time
from typing import Dict, Optional

from mmengine.logging import MMLogger

from mmorcnn.datasets.amodal_format import load_amodal_coco
from mmorcnn.evaluation.functional import evaluate_amodal, load_amodal_results
from mmorcnn.evaluation.functional.amodal_table import report_amodal
from mmorcnn.visualization import plot_pr_curves


def evaluate_results_file(ann_file: str,
                          results_file: str,
                          class_agnostic: bool = False,
                          classwise: bool = False,
                          max_dets: int = 100,
                          things_stuff: Optional[bool] = None,
                          occlusion_levels: bool = True,
                          literature_protocols: bool = True,
                          on_error: str = 'raise',
                          prefix: str = 'amodal',
                          out_file: Optional[str] = None,
                          plot_dir: Optional[str] = None,
                          logger: Optional[MMLogger] = None) -> Dict[str, float]:
    """Evaluate ``results_file`` on ``ann_file``; log the metric's tables.

    Args:
        ann_file (str): Annotation file in the canonical amodal format.
        results_file (str): Results file written by ``AmodalCocoMetric``.
        class_agnostic, classwise, max_dets, things_stuff, occlusion_levels,
            literature_protocols: As for ``AmodalCocoMetric``.
        on_error (str): How bad annotations are treated, ``'raise'`` or ``'skip'``. Defaults to
            'raise'.
        prefix (str): Prefix of the returned keys. Defaults to 'amodal'.
        out_file (str, optional): Also write the metrics to this JSON file. Defaults to None.
        plot_dir (str, optional): Also draw the precision-recall curves to
            ``{plot_dir}/pr_curves.png``. Defaults to None.
        logger (MMLogger, optional): Where the tables go. Defaults to None: an ``eval_amodal``
            logger.

    Returns:
        dict: ``{prefix}/{key}`` for every key of the metric.
    """
    if logger is None:
        logger = MMLogger.get_instance('eval_amodal') if MMLogger.check_instance_created(
            'eval_amodal') else MMLogger.get_instance('eval_amodal', log_level='INFO')
    gt = load_amodal_coco(ann_file, on_error=on_error, logger=logger)
    detections = load_amodal_results(results_file, gt)
    start = time.perf_counter()
    evaluation = evaluate_amodal(
        gt.anns_by_image, gt.categories, detections, class_agnostic=class_agnostic,
        max_dets=max_dets, things_stuff=things_stuff, occlusion_levels=occlusion_levels,
        literature_protocols=literature_protocols, classwise=classwise, logger=logger)
    logger.info(f'evaluated in {time.perf_counter() - start:.2f} s')
    metrics = {f'{prefix}/{k}': v for k, v in report_amodal(evaluation, logger).items()}
    if out_file:
        with open(out_file, 'w') as f:
            json.dump(metrics, f, indent=1)
        logger.info(f'metrics written to {out_file}')
    if plot_dir:
        png = plot_pr_curves(evaluation, osp.join(plot_dir, 'pr_curves.png'),
                             title=f'{osp.basename(results_file)} on {osp.basename(ann_file)}')
        logger.info(f'precision-recall curves written to {png}')
    return metrics
