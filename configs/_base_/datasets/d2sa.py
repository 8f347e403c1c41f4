# D2S amodal (60 grocery classes), canonical files written by
#   python tools/dataset_converters/d2sa2amodal.py ...   (see README "Datasets")
# Appendix A: one image per GPU on 2 GPUs.
_base_ = './amodal_instance.py'

data_root = 'data/d2s_amodal/'
train_dataloader = dict(
    batch_size=1,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/')))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
