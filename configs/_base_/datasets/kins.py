# KINS (Qi et al. 2019, KITTI images, 7 classes), v1 or 2020 release converted to the canonical
# format by tools/dataset_converters/kins2amodal.py. Two images per GPU, as for COCOA.
_base_ = './amodal_instance.py'

data_root = 'data/kins/'
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img='training/image_2/')))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/test.json',
        data_prefix=dict(img='testing/image_2/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/test.json')
test_evaluator = val_evaluator
