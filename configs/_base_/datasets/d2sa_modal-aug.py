# D2S amodal "modal augmented" training set (paper 4.1, Table 6 last row): images made by
# pasting unoccluded D2S objects, written by tools/dataset_converters/copy_paste_amodal.py.
# Evaluated on the real D2S amodal validation set.
_base_ = './d2sa.py'

train_dataloader = dict(
    dataset=dict(
        ann_file='annotations/train_modal-aug.json',
        data_prefix=dict(img='images_modal-aug/')))
