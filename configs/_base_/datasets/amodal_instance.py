# Common settings of the real amodal datasets (D2S amodal, COCOA, COCOA cls, KINS), following the
# paper's appendix A: shorter side scaled to 800 px, longer side at most 1111 px (KINS: at most
# 3000, kins.py). The dataset files beside this one set data_root, the annotation files and the
# batch size. Training is iteration-
# based (../schedules/schedule_10k.py), so the training sampler is mmengine's InfiniteSampler, as
# in mmdet's iteration-based configs: it never ends an epoch, so the loader is not restarted.
dataset_type = 'AmodalCocoDataset'
data_root = 'data/'
backend_args = None

train_pipeline = [
    dict(type='LoadNamedImageFromFile', backend_args=backend_args),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(1111, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAmodalDetInputs')
]
test_pipeline = [
    dict(type='LoadNamedImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1111, 800), keep_ratio=True),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackAmodalDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
# KINS: shorter side 800, longer side at most 3000, in training and testing, as every KINS result
# of the literature (INPUT of UARK-AICV/AISFormer configs/Base-RCNN-FPN-KINS.yaml); a 1242 x 375
# KITTI image becomes 2650 x 800.
kins_train_pipeline = [
    dict(step, scale=(3000, 800)) if step['type'] == 'Resize' else step for step in train_pipeline
]
kins_test_pipeline = [
    dict(step, scale=(3000, 800)) if step['type'] == 'Resize' else step for step in test_pipeline
]
# Detectron2's default sizes, which the published D2S amodal and COCOA cls configs of AISFormer
# and aistron keep (INPUT.MIN_SIZE_TRAIN (640, ..., 800), MAX_SIZE_TRAIN 1333, MIN_SIZE_TEST 800,
# MAX_SIZE_TEST 1333): in training the shorter side drawn from 640-800 in steps of 32, in testing
# 800, the longer side at most 1333.
multiscale_train_pipeline = [
    dict(type='RandomChoiceResize', scales=[(1333, short) for short in range(640, 801, 32)],
         keep_ratio=True) if step['type'] == 'Resize' else step for step in train_pipeline
]
test_pipeline_1333 = [
    dict(step, scale=(1333, 800)) if step['type'] == 'Resize' else step for step in test_pipeline
]

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

# The paper's amodal protocol (section 3.3); the dataset files set ann_file.
val_evaluator = dict(type='AmodalCocoMetric', backend_args=backend_args)
test_evaluator = val_evaluator
