# The paper's solver (appendix A): 10,000 iterations, base lr 0.0025, weight decay 1e-4,
# Mask R-CNN's linear warm-up, lr x0.1 at 6,000 and 8,000 iterations.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=10000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 3, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=10000, milestones=[6000, 8000],
         gamma=0.1)
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.0025, momentum=0.9, weight_decay=0.0001))

# The paper trained on 2 GPUs; `--auto-scale-lr` rescales lr for other batch sizes.
auto_scale_lr = dict(enable=False, base_batch_size=4)
