# "COCOA no stuff" (paper Table 1): COCOA without its stuff regions (cocoa2amodal.py --no-stuff).
_base_ = './cocoa.py'

train_dataloader = dict(dataset=dict(ann_file='cocoa/annotations/train_no-stuff.json'))
val_dataloader = dict(dataset=dict(ann_file='cocoa/annotations/val_no-stuff.json'))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file='data/cocoa/annotations/val_no-stuff.json')
test_evaluator = val_evaluator
