# COCOA (Zhu et al. 2017), class-agnostic: one category `object`, stuff regions kept.
# Canonical files written by tools/dataset_converters/cocoa2amodal.py; images are COCO 2014's.
# Appendix A: two images per GPU on 2 GPUs.
_base_ = './amodal_instance.py'

data_root = 'data/'
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        data_root=data_root,
        ann_file='cocoa/annotations/train.json',
        data_prefix=dict(img='coco/train2014/')))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='cocoa/annotations/val.json',
        data_prefix=dict(img='coco/val2014/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'cocoa/annotations/val.json')
test_evaluator = val_evaluator
