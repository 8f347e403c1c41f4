_base_ = 'mmdet::_base_/default_runtime.py'

# `import mmorcnn` registers the amodal dataset, transforms, heads and metric into mmdet's
# registries (and makes checkpoints loadable under torch >= 2.6).
custom_imports = dict(imports=['mmorcnn'], allow_failed_imports=False)

# mmengine's Runner plus the checks made before work starts (writable work dir, class count of
# every head against the dataset, a checkpoint that fits the model for testing and resuming),
# checkpoints written then renamed, and --resume past an unreadable latest checkpoint
# (docs/robustness.md). allow_partial_checkpoint=True tests a checkpoint that lacks weights of
# the model, with those weights at their random initialisation.
runner_type = 'AmodalRunner'
allow_partial_checkpoint = False

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000, max_keep_ckpts=3),
    # overlays of `mim test --show-dir` draw predictions with score > 0.5 (mmdet: 0.3), which
    # drops duplicate detections (docs/visualization.md, "Overlays")
    visualization=dict(type='DetVisualizationHook', score_thr=0.5))
# Draws the precision-recall curves of an AmodalCocoMetric given a plot_dir (pr_curves.png next
# to the metric's pr_curves.npz); does nothing otherwise.
custom_hooks = [dict(type='AmodalPRCurvesHook')]
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)

# Overlays (`mim test --show-dir`, AmodalInferencer): amodal masks in class colours with their
# invisible part highlighted, ground truth left of the prediction (mmorcnn.visualization).
visualizer = dict(type='AmodalDetLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')],
                  name='visualizer')
