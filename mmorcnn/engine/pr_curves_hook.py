"""Draw the precision-recall curves of the amodal metric after each evaluation."""
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmdet.registry import HOOKS
from mmorcnn.evaluation.functional import load_pr_arrays
from mmorcnn.visualization import plot_pr_curves


@HOOKS.register_module()
class AmodalPRCurvesHook(Hook):
    """Draw ``{plot_dir}/pr_curves.png`` for every ``AmodalCocoMetric`` of the evaluator that
    was given a ``plot_dir``, from the arrays the metric wrote there (``pr_curves.npz``).

    The metric computes numbers and the hook draws them, so that evaluation does not depend on
    drawing. The default runtime config of mmorcnn has this hook; without a ``plot_dir`` it does
    nothing.
    """
    priority = 'LOW'

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        self._draw(runner.val_evaluator)

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        self._draw(runner.test_evaluator)

    @master_only
    def _draw(self, evaluator) -> None:
        for metric in evaluator.metrics:
            arrays = getattr(metric, 'pr_arrays_file', None)
            if arrays is None or not osp.isfile(arrays):
                continue
            out_file = plot_pr_curves(load_pr_arrays(arrays),
                                      osp.join(osp.dirname(arrays), 'pr_curves.png'),
                                      title=osp.basename(metric.gt.ann_file))
            print_log(f'precision-recall curves written to {osp.abspath(out_file)}',
                      logger='current')
