# The synthetic amodal dataset that ships with mmorcnn as a generator:
#   python tools/dataset_converters/make_synthetic_amodal.py data/synthetic_amodal
# 6 classes, 192x192 images (160x160 camera view zero-padded by 16 px, as D2S amodal pads).
# LoadAmodalAnnotations keeps amodal, visible and invisible masks together through every
# geometric transform (Resize, RandomFlip, Pad, RandomCrop ...); PackAmodalDetInputs puts them
# in gt_instances.masks / .visible_masks / .invisible_masks.
dataset_type = 'AmodalCocoDataset'
data_root = 'data/synthetic_amodal/'
backend_args = None

train_pipeline = [
    dict(type='LoadNamedImageFromFile', backend_args=backend_args),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(192, 192), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAmodalDetInputs')
]
test_pipeline = [
    dict(type='LoadNamedImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(192, 192), keep_ratio=True),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackAmodalDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
# The synthetic configs train by iterations (IterBasedTrainLoop): InfiniteSampler iterates without
# the restart (and warning) at the end of each pass that DefaultSampler makes.
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img='train/'),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

# The paper's amodal protocol (section 3.3): AP_AV, AP_A, AP_V on all and occluded objects,
# AP_IV@0.5 (keys amodal/..., see README "Evaluation").
val_evaluator = dict(
    type='AmodalCocoMetric',
    ann_file=data_root + 'annotations/val.json',
    backend_args=backend_args)
test_evaluator = val_evaluator
