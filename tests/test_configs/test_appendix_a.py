"""Every real-dataset config trains as the paper's appendix A says (and runs as mmdet's
iteration-based configs do)."""
import os.path as osp

import pytest
from mmengine.config import Config

from .test_configs import CONFIGS, _dataset_of

# The ORCNN paper's models; other methods follow their own papers (test_occluder_aware_configs.py).
PAPER_FOLDERS = ('orcnn', 'amodal_mask_rcnn', 'mask_rcnn')
REAL_CONFIGS = [p for p in CONFIGS if _dataset_of(p) != 'synthetic'
                and osp.basename(osp.dirname(p)) in PAPER_FOLDERS]

# Appendix A: "On D2S amodal we used a batch-size of one image per GPU, while on COCOA and COCOA
# cls two images per GPU were used", on 2 GPUs. KINS is not in the paper; it is set up as COCOA.
IMAGES_PER_GPU = {'d2sa': 1, 'cocoa': 2, 'cocoa_no-stuff': 2, 'cocoa-cls': 2, 'kins': 2}
NUM_GPUS = 2


def _resizes(pipeline):
    return [step for step in pipeline if step['type'] == 'Resize']


@pytest.fixture(scope='module', params=REAL_CONFIGS,
                ids=[osp.basename(p) for p in REAL_CONFIGS])
def cfg(request):
    return Config.fromfile(request.param), _dataset_of(request.param)


def test_there_are_real_dataset_configs_of_every_dataset():
    assert {_dataset_of(p) for p in REAL_CONFIGS} == set(IMAGES_PER_GPU)


def test_solver_10k_iterations_lr_weight_decay_and_steps(cfg):
    cfg, _ = cfg
    assert cfg.train_cfg.type == 'IterBasedTrainLoop' and cfg.train_cfg.max_iters == 10000
    assert cfg.optim_wrapper.optimizer.lr == 0.0025
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.0001
    steps = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR']
    assert len(steps) == 1 and steps[0].milestones == [6000, 8000] and steps[0].gamma == 0.1
    assert steps[0].by_epoch is False
    warmup = [s for s in cfg.param_scheduler if s.type == 'LinearLR']  # Mask R-CNN's warm-up
    assert len(warmup) == 1 and warmup[0].begin == 0 and warmup[0].end < 6000


def test_images_shorter_side_800_longer_at_most_1111_on_kins_3000(cfg):
    # KINS is not in the paper: its configs use the literature's 800 / 3000 (docs/recipes.md)
    cfg, dataset = cfg
    longer = 3000 if dataset == 'kins' else 1111
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        resizes = _resizes(loader.dataset.pipeline)
        assert len(resizes) == 1
        assert tuple(resizes[0].scale) == (longer, 800) and resizes[0].keep_ratio is True


def test_rois_per_image(cfg):
    cfg, _ = cfg
    assert cfg.model.train_cfg.rcnn.sampler.num == 256  # RoIs per image in the RoI batch
    assert cfg.model.train_cfg.rpn_proposal.nms_pre == 1000  # per FPN level, before RPN NMS


def test_images_per_gpu_and_the_batch_auto_scale_lr_starts_from(cfg):
    cfg, dataset = cfg
    assert cfg.train_dataloader.batch_size == IMAGES_PER_GPU[dataset]
    assert cfg.auto_scale_lr.base_batch_size == NUM_GPUS * IMAGES_PER_GPU[dataset]


def test_iteration_based_training_samples_without_epochs(cfg):
    cfg, _ = cfg
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    assert cfg.train_dataloader.sampler.shuffle is True


def test_no_backbone_initialisation_that_load_from_replaces(cfg):
    cfg, _ = cfg
    assert cfg.load_from  # appendix A: every model starts from a COCO-trained one
    assert cfg.model.backbone.get('init_cfg') is None
