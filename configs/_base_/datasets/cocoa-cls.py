# COCOA cls (paper 4.2): COCOA instances that match a COCO 2014 instance (visible-mask IoU > 0.75)
# take its category (COCO's 80 classes). Written by tools/dataset_converters/cocoa_cls.py.
_base_ = './cocoa.py'

train_dataloader = dict(dataset=dict(ann_file='cocoa_cls/annotations/train.json'))
val_dataloader = dict(dataset=dict(ann_file='cocoa_cls/annotations/val.json'))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file='data/cocoa_cls/annotations/val.json')
test_evaluator = val_evaluator
