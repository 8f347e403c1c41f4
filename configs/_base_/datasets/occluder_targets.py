# The pipelines of occluder-aware mask heads (AISFormer, BCNet): those of the real-dataset
# configs (amodal_instance.py) and of the synthetic ones (synthetic_amodal.py) with the occluder
# targets, per object the union of the visible masks of the objects that hide part of it (the
# canonical `occluder_ids`), and those of the authors' recipes (docs/recipes.md). A config takes
# one with
#   train_dataloader = dict(dataset=dict(pipeline={{_base_.occluder_train_pipeline}}))
occluder_train_pipeline = [
    dict(type='LoadNamedImageFromFile', backend_args=None),
    dict(type='LoadAmodalAnnotations', with_bbox=True, with_mask=True, with_occluder=True),
    dict(type='Resize', scale=(1111, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAmodalDetInputs')
]
occluder_synthetic_train_pipeline = [
    dict(step, scale=(192, 192)) if step['type'] == 'Resize' else step
    for step in occluder_train_pipeline
]

# The authors' recipes. Occluder targets by the data preparation of AISFormer
# (detectron2/data/datasets/process_data_amodal.py) and aistron
# (datasets/prepare_amodal_instances.py): every other object whose box has an IoU above 0.05 with
# the object's amodal box, the union of their visible masks clipped to that box, none where it has
# 20 pixels or fewer (LoadAmodalAnnotations, occluder_rule='bcnet'). The canonical rule instead:
#   --cfg-options train_dataloader.dataset.pipeline.1.occluder_rule=occluder_ids
# KINS: the other objects' visible boxes (aistron's prepare_kins.py reads KINS's inmodal_bbox);
# shorter side 800, longer side at most 3000 (UARK-AICV/AISFormer configs/Base-RCNN-FPN-KINS.yaml).
occluder_kins_train_pipeline = [
    dict(step, occluder_rule='bcnet') if step['type'] == 'LoadAmodalAnnotations' else
    dict(step, scale=(3000, 800)) if step['type'] == 'Resize' else step
    for step in occluder_train_pipeline
]
# D2S amodal and COCOA cls: the other objects' amodal boxes (their releases state no visible box;
# aistron's prepare_d2sa.py and prepare_cocoa.py compare `bbox`); Detectron2's default sizes:
# shorter side drawn from 640-800 in steps of 32, longer side at most 1333 (INPUT.MIN_SIZE_TRAIN of
# the authors' configs, MAX_SIZE_TRAIN of Detectron2's defaults).
occluder_multiscale_train_pipeline = [
    dict(step, occluder_rule='bcnet', occluder_box='amodal')
    if step['type'] == 'LoadAmodalAnnotations' else
    dict(type='RandomChoiceResize', scales=[(1333, short) for short in range(640, 801, 32)],
         keep_ratio=True) if step['type'] == 'Resize' else step
    for step in occluder_train_pipeline
]
