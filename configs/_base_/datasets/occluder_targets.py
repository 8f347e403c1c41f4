# The training pipelines of occluder-aware mask heads (AISFormer, BCNet): those of the real-dataset
# configs (amodal_instance.py) and of the synthetic ones (synthetic_amodal.py) with the occluder
# targets, per object the union of the visible masks of the objects that hide part of it (the
# canonical `occluder_ids`; `occluder_rule='box_iou'` for the looser rule of AISFormer's and
# BCNet's data preparation). A config takes one with
#   train_dataloader = dict(dataset=dict(pipeline={{_base_.occluder_train_pipeline}}))
occluder_train_pipeline = [
    dict(type='LoadNamedImageFromFile', backend_args=None),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True, with_occluder=True),
    dict(type='Resize', scale=(1111, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAmodalDetInputs')
]
occluder_synthetic_train_pipeline = [
    dict(type='LoadNamedImageFromFile', backend_args=None),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True, with_occluder=True),
    dict(type='Resize', scale=(192, 192), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAmodalDetInputs')
]
