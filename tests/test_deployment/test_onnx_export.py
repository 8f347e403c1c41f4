"""ONNX export and ONNX Runtime inference: the graph's form, the same detections, masks,
occlusion order and metric as PyTorch for a briefly trained tiny ORCNN on validation images it
has not seen, the same demo files, and bad inputs refused with a named error before any work."""
import glob
import json
import os
import os.path as osp
import runpy
import subprocess
import sys

import cv2
import numpy as np
import onnx
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmorcnn  # noqa: F401
from mmorcnn.apis import OnnxAmodalDetector, OnnxAmodalInferencer
from mmorcnn.apis.image_demo import run_image_demo
from mmorcnn.datasets.synthetic import generate_synthetic_amodal
from mmorcnn.deployment import export_onnx, load_exportable_model
from mmorcnn.engine import CheckpointMismatchError
from mmorcnn.evaluation import AmodalCocoMetric
from mmorcnn.structures import ExportError, ImageChannelError, OnnxModelError, rle_iou
from mmorcnn.structures.mask_kinds import MASK_KINDS
from test_engine.test_runner import _cfg, _runner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ORCNN = osp.join(ROOT, 'configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
AMODAL_MRCNN = osp.join(ROOT, 'configs', 'amodal_mask_rcnn',
                        'amodal-mask-rcnn_r18_fpn_tiny_synthetic.py')
BCNET = osp.join(ROOT, 'configs', 'bcnet', 'bcnet_r18_fpn_tiny_synthetic.py')
AISFORMER = osp.join(ROOT, 'configs', 'aisformer', 'aisformer_r18_fpn_tiny_synthetic.py')
EXPORT_TOOL = osp.join(ROOT, 'tools', 'deployment', 'export_onnx.py')
MASK_FIELDS = [kind.field for kind in MASK_KINDS]
CLASSES = ('disc', 'square', 'triangle', 'star', 'cross', 'hexagon')  # the synthetic set's
#: Iterations of the tiny ORCNN at a constant learning rate: enough for scores that tell the
#: detections apart (an untrained box head scores every box about 1 / (classes + 1), where
#: float rounding alone would order them).
ITERS = 20


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_amodal(out, num_train=6, num_val=4, seed=11)
    return out


@pytest.fixture(scope='module')
def trained(data_root, tmp_path_factory):
    """The tiny ORCNN trained for a few iterations: (config with the data, checkpoint)."""
    work_dir = str(tmp_path_factory.mktemp('train'))
    cfg = _cfg(ORCNN, data_root, work_dir, max_iters=ITERS, param_scheduler=[],
               **{'default_hooks.checkpoint.interval': ITERS})
    _runner(cfg).train()
    return cfg, osp.join(work_dir, f'iter_{ITERS}.pth')


@pytest.fixture(scope='module')
def exported(trained, tmp_path_factory):
    cfg, checkpoint = trained
    out = str(tmp_path_factory.mktemp('onnx') / 'orcnn.onnx')
    report = export_onnx(cfg, checkpoint, out)
    return out, report


def _model_pair(cfg, checkpoint, onnx_file):
    """The PyTorch model and the ONNX Runtime model of the same export."""
    model, _ = load_exportable_model(cfg, checkpoint)
    return model, OnnxAmodalDetector(onnx_file, cfg, 'cpu', num_threads=1)


def test_export_is_one_checked_graph_with_dynamic_size_and_detections(exported):
    path, report = exported
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert report.opset == 17
    assert [o.version for o in proto.opset_import if o.domain in ('', 'ai.onnx')] == [17]
    # only standard operators: ONNX Runtime needs no custom operator library
    assert {o.domain for o in proto.opset_import} <= {'', 'ai.onnx'}
    ops = {node.op_type for node in proto.graph.node}
    assert {'RoiAlign', 'NonMaxSuppression'} <= ops
    (name, dtype, shape), = report.inputs
    assert (name, dtype, shape) == ('image', 'float', [1, 3, 'height', 'width'])
    names = ['boxes', 'scores', 'labels', 'amodal_mask_probs', 'visible_mask_probs',
             'invisible_mask_probs']
    assert [o[0] for o in report.outputs] == names
    assert all(o[2][0] == 'detections' for o in report.outputs)
    assert [o[2][1:] for o in report.outputs[3:]] == [[28, 28]] * 3
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta['mmorcnn.classes']) == list(CLASSES)
    assert json.loads(meta['mmorcnn.mask_kinds']) == ['amodal', 'visible', 'invisible']


def test_export_tool_prints_opset_inputs_and_outputs(trained, tmp_path, capsys):
    main = runpy.run_path(EXPORT_TOOL)['main']
    cfg, checkpoint = trained
    cfg_file = str(tmp_path / 'orcnn.py')
    cfg.dump(cfg_file)
    assert main([cfg_file, checkpoint, str(tmp_path / 'm.onnx')]) == 0
    printed = capsys.readouterr().out
    assert f'{tmp_path / "m.onnx"}: opset 17, checked with onnx.checker' in printed
    assert 'input  image: float [1, 3, \'height\', \'width\']' in printed
    assert 'output invisible_mask_probs: float [\'detections\', 28, 28]' in printed


def _mask_iou(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.numpy().astype(bool), b.numpy().astype(bool)
    union = (a | b).sum()
    return 1.0 if union == 0 else float((a & b).sum() / union)


def _assert_same_predictions(ref, out) -> None:
    """Detection by detection: boxes to 1e-3 relative, labels, scores to 1e-4, every mask
    with IoU >= 0.99, the same occlusion order."""
    assert len(out) == len(ref)
    np.testing.assert_array_equal(out.labels.numpy(), ref.labels.numpy())
    assert np.all(np.abs(out.bboxes.numpy() - ref.bboxes.numpy())
                  <= 1e-3 * np.maximum(np.abs(ref.bboxes.numpy()), 1))
    np.testing.assert_allclose(out.scores.numpy(), ref.scores.numpy(), rtol=0, atol=1e-4)
    for field in MASK_FIELDS:
        if field in ref:
            assert out[field].shape == ref[field].shape
            ious = [_mask_iou(a, b) for a, b in zip(out[field], ref[field])]
            assert min(ious, default=1) >= 0.99, (field, min(ious))
    if 'occluders' in ref:
        np.testing.assert_array_equal(out.occluders.numpy(), ref.occluders.numpy())
        np.testing.assert_array_equal(out.depth.numpy(), ref.depth.numpy())


def test_onnxruntime_equals_pytorch_detection_by_detection_and_by_the_metric(
        trained, exported, data_root):
    cfg, checkpoint = trained
    model, onnx_model = _model_pair(cfg, checkpoint, exported[0])
    loader = Runner.build_dataloader(cfg.test_dataloader)
    ann_file = cfg.test_evaluator.ann_file
    metrics = {name: AmodalCocoMetric(ann_file) for name in ('pytorch', 'onnxruntime')}
    for metric in metrics.values():
        metric.dataset_meta = loader.dataset.metainfo
    detections = 0
    with torch.no_grad():
        for data in loader:
            out = onnx_model.test_step(dict(
                inputs=data['inputs'], data_samples=[s.clone() for s in data['data_samples']]))
            ref = model.test_step(data)
            for r, o in zip(ref, out):
                _assert_same_predictions(r.pred_instances, o.pred_instances)
                detections += len(r.pred_instances)
                assert r.img_id == o.img_id
            metrics['pytorch'].process(data, ref)
            metrics['onnxruntime'].process(data, out)
    assert detections > 0
    results = {name: metric.evaluate(len(loader.dataset)) for name, metric in metrics.items()}
    assert results['pytorch'].keys() == results['onnxruntime'].keys()
    for key, value in results['pytorch'].items():
        assert results['onnxruntime'][key] == pytest.approx(value, abs=1e-3), key


def test_image_demo_onnxruntime_writes_the_same_json_and_overlays(trained, exported, data_root,
                                                                 tmp_path):
    cfg, checkpoint = trained
    cfg_file = str(tmp_path / 'orcnn.py')
    cfg.dump(cfg_file)
    images = osp.join(data_root, 'val')
    outs = {}
    for backend, model_file in (('pytorch', checkpoint), ('onnxruntime', exported[0])):
        outs[backend] = str(tmp_path / backend)
        summary = run_image_demo(images, cfg_file, model_file, out_dir=outs[backend], limit=2,
                                 device='cpu', backend=backend)
        assert 'contact sheet' in summary
    for name in ('vis', 'preds'):
        assert sorted(os.listdir(osp.join(outs['onnxruntime'], name))) == \
            sorted(os.listdir(osp.join(outs['pytorch'], name)))
    for path in glob.glob(osp.join(outs['pytorch'], 'preds', '*.json')):
        with open(path) as f:
            ref = json.load(f)
        with open(osp.join(outs['onnxruntime'], 'preds', osp.basename(path))) as f:
            out = json.load(f)
        assert (out['img_path'], out['height'], out['width']) == \
            (ref['img_path'], ref['height'], ref['width'])
        assert len(out['instances']) == len(ref['instances']) > 0
        for o, r in zip(out['instances'], ref['instances']):
            assert (o['label'], o['category'], o['occluded_by'], o['depth']) == \
                (r['label'], r['category'], r['occluded_by'], r['depth'])
            assert o['score'] == pytest.approx(r['score'], abs=1e-4)
            for key in ('segmentation', 'visible_mask', 'invisible_mask'):
                if r[key]['counts'] != o[key]['counts']:
                    assert rle_iou([o[key]], [r[key]])[0, 0] >= 0.99


@pytest.mark.parametrize('config,kinds,options', [
    (AMODAL_MRCNN, ['amodal'], {}),
    (BCNET, ['amodal', 'visible', 'invisible'], {}),
    (AISFORMER, ['amodal', 'visible', 'invisible'], {}),
    # with a second decoder layer the masks depend on the fourth query row, which the graph
    # must then carry
    (AISFORMER, ['amodal', 'visible', 'invisible'],
     {'model.roi_head.mask_head.num_decoder_layers': 2}),
])
def test_baseline_and_other_heads_export_equal_to_pytorch(config, kinds, options, data_root,
                                                          tmp_path):
    """AmodalMRCNN (amodal masks only), BCNet and AISFormer: detections, masks and occlusion
    order equal to PyTorch's (random weights, the validation images of one batch)."""
    init_default_scope('mmdet')
    cfg = _cfg(config, data_root, str(tmp_path), **options)
    torch.manual_seed(0)
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), checkpoint)
    report = export_onnx(cfg, checkpoint, str(tmp_path / 'model.onnx'))
    assert [o[0] for o in report.outputs] == \
        ['boxes', 'scores', 'labels'] + [f'{kind}_mask_probs' for kind in kinds]
    model, onnx_model = _model_pair(cfg, checkpoint, report.path)
    if config == AISFORMER:  # all rows of the query embedding, the fourth included
        rows = model.roi_head.mask_head.query_embed.weight.detach().numpy()
        assert rows.shape[0] == 4
        assert any(np.array_equal(array.reshape(-1), rows.reshape(-1))
                   for array in map(onnx.numpy_helper.to_array,
                                    onnx.load(report.path).graph.initializer))
    data = next(iter(Runner.build_dataloader(cfg.test_dataloader)))
    with torch.no_grad():
        out = onnx_model.test_step(dict(inputs=data['inputs'],
                                        data_samples=[s.clone() for s in data['data_samples']]))
        ref = model.test_step(data)
    for r, o in zip(ref, out):
        assert len(r.pred_instances) > 0
        assert ('occluders' in o.pred_instances) == (len(kinds) == 3)
        _assert_same_predictions(r.pred_instances, o.pred_instances)


class TestBadInput:

    def test_checkpoint_of_another_model_is_refused_before_the_export(self, tmp_path):
        cfg = Config.fromfile(ORCNN)
        init_default_scope('mmdet')
        amrcnn = MODELS.build(Config.fromfile(AMODAL_MRCNN).model)
        checkpoint = str(tmp_path / 'amrcnn.pth')
        torch.save(dict(state_dict=amrcnn.state_dict()), checkpoint)
        out = str(tmp_path / 'x.onnx')
        with pytest.raises(CheckpointMismatchError, match=f'(?s)checkpoint {checkpoint} does not '
                           'fit the model for ONNX export:.*roi_head.visible_mask_head'):
            export_onnx(cfg, checkpoint, out)
        assert not osp.exists(out)

    def test_a_head_without_onnx_form_is_refused_before_the_checkpoint_is_read(self, tmp_path):
        cfg = Config.fromfile(ORCNN)
        cfg.model.test_cfg.rcnn.nms = dict(type='soft_nms', iou_threshold=0.5)
        out = str(tmp_path / 'x.onnx')
        with pytest.raises(ExportError, match=r'test_cfg.rcnn.nms .*soft_nms.*only type=\'nms\''):
            export_onnx(cfg, str(tmp_path / 'never-read.pth'), out)
        assert not osp.exists(out)

    def test_onnx_file_of_another_model_is_refused_by_its_outputs(self, tmp_path):
        cfg = Config.fromfile(ORCNN)
        conv = str(tmp_path / 'conv.onnx')
        weight = onnx.numpy_helper.from_array(np.ones((2, 3, 1, 1), np.float32), 'weight')
        graph = onnx.helper.make_graph(
            [onnx.helper.make_node('Conv', ['image', 'weight'], ['features'])], 'conv',
            [onnx.helper.make_tensor_value_info('image', onnx.TensorProto.FLOAT,
                                                [1, 3, 'height', 'width'])],
            [onnx.helper.make_tensor_value_info('features', onnx.TensorProto.FLOAT, None)],
            [weight])
        onnx.save(onnx.helper.make_model(graph), conv)
        with pytest.raises(OnnxModelError, match=f'{conv}: outputs \\[\'features\'\\]; the '
                           'config\'s model exported has \\[\'boxes\', \'scores\''):
            OnnxAmodalInferencer(cfg, conv, show_progress=False)
        text = str(tmp_path / 'not.onnx')
        with open(text, 'w') as f:
            f.write('not a model')
        with pytest.raises(OnnxModelError, match=f'{text}: not a model ONNX Runtime can load'):
            OnnxAmodalInferencer(cfg, text, show_progress=False)

    def test_the_tools_print_a_bad_input_as_its_named_error_without_a_traceback(self, tmp_path):
        """image_demo.py with a file that is no ONNX model, export_onnx.py with a checkpoint
        that is missing: exit status 1, the error's name and message, no traceback."""
        text = str(tmp_path / 'not.onnx')
        with open(text, 'w') as f:
            f.write('not a model')
        image = str(tmp_path / 'image.png')
        cv2.imwrite(image, np.zeros((32, 32, 3), np.uint8))
        for tool, args, error in (
                (osp.join(ROOT, 'tools', 'demo', 'image_demo.py'),
                 [image, ORCNN, text, '--backend', 'onnxruntime', '--out-dir',
                  str(tmp_path / 'out')], f'OnnxModelError: {text}: not a model'),
                (EXPORT_TOOL, [ORCNN, str(tmp_path / 'missing.pth'), str(tmp_path / 'x.onnx')],
                 'missing.pth')):
            proc = subprocess.run([sys.executable, tool, *args], capture_output=True, text=True)
            assert proc.returncode == 1, proc.stderr
            assert error in proc.stderr and 'Traceback' not in proc.stderr, proc.stderr

    def test_export_of_another_config_is_refused_by_its_outputs(self, trained, exported):
        """The ORCNN export with the AmodalMRCNN config: six outputs where four belong."""
        cfg, _ = trained
        amrcnn = _cfg(AMODAL_MRCNN, cfg.test_dataloader.dataset.data_root, cfg.work_dir)
        with pytest.raises(OnnxModelError, match='outputs .*invisible_mask_probs.*; the '
                           'config\'s model exported has .*amodal_mask_probs\'\\]'):
            OnnxAmodalInferencer(amrcnn, exported[0], show_progress=False)

    @pytest.mark.parametrize('shape', [(64, 64, 4), (64, 64)])
    def test_image_with_wrong_channel_count_is_refused_before_any_image_runs(
            self, trained, exported, tmp_path, shape):
        cfg, _ = trained
        inferencer = OnnxAmodalInferencer(cfg, exported[0], show_progress=False)
        good = np.zeros((64, 64, 3), np.uint8)
        with pytest.raises(ImageChannelError, match=r'input 1: an array of shape '
                           rf'\({shape[0]}, {shape[1]}.*the model reads H x W x 3 images'):
            inferencer([good, np.zeros(shape, np.uint8)], out_dir=str(tmp_path),
                       no_save_pred=False)
        assert not os.listdir(tmp_path)


def test_large_images_are_pasted_in_chunks_to_the_same_rles(trained, exported, data_root):
    """With ``max_mask_pixels`` below one image's masks, the masks are pasted a detection at a
    time as RLEs: the same JSON as the paste of all at once."""
    cfg, _ = trained
    image = osp.join(data_root, 'val', sorted(os.listdir(osp.join(data_root, 'val')))[0])
    preds = [OnnxAmodalInferencer(cfg.copy(), exported[0], show_progress=False,
                                  max_mask_pixels=pixels)(image)['predictions'][0]
             for pixels in (None, 192 * 192 * 3)]
    assert len(preds[0]['instances']) > 1
    assert preds[0] == preds[1]
