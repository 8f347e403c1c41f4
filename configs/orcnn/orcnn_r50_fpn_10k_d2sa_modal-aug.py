# ORCNN (modal aug), R50-FPN, D2S amodal, paper Table 6:
# trained only on D2S amodal modal augmented (amodal GT made by pasting modally annotated objects),
# evaluated on D2S amodal val like every other D2S row.
_base_ = './orcnn_r50_fpn_10k_d2sa.py'

train_dataloader = dict(
    dataset=dict(
        ann_file='annotations/train_modal-aug.json', data_prefix=dict(img='images_modal-aug/')))
