# KINS (Qi et al. 2019, KITTI images), v1 (instances_{train,val}.json) or 2020
# (update_{train,test}_2020.json) release converted to the canonical format by
# tools/dataset_converters/kins2amodal.py. Two images per GPU, as for COCOA.
# The 7 evaluated categories with the release's ids (cyclist 1, pedestrian 2, car 4, tram 5,
# truck 6, van 7, misc 8): the 2020 files also declare rider (3), which has no instance; naming
# the classes keeps it out of the model's labels and of the metric's categories.
# Images at shorter side 800, longer side at most 3000 (amodal_instance.py, kins_*_pipeline).
_base_ = './amodal_instance.py'

data_root = 'data/kins/'
metainfo = dict(classes=('cyclist', 'pedestrian', 'car', 'tram', 'truck', 'van', 'misc'))
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/train.json',
        data_prefix=dict(img='training/image_2/'),
        pipeline={{_base_.kins_train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/test.json',
        data_prefix=dict(img='testing/image_2/'),
        pipeline={{_base_.kins_test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/test.json')
test_evaluator = val_evaluator
