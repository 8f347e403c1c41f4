import pytest

from mmorcnn.analysis import profile_orcnn
from mmorcnn.analysis.benchmark_orcnn import OrcnnBenchmarkSettings
from mmorcnn.analysis.profile_orcnn import (INFERENCE_STAGES, TRAIN_STAGES, PasteComparison,
                                            run_profile_orcnn)
from mmorcnn.utils import project_path

TINY = dict(
    mrcnn_config=project_path('configs', 'amodal_mask_rcnn',
                              'amodal-mask-rcnn_r18_fpn_tiny_synthetic.py'),
    orcnn_config=project_path('configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py'),
    shape=(160, 224), detections=5, num_gts=2, iters=2, warmup=0, device='cpu',
    release_memory=True)  # leave the malloc of the test process as it is


def _table(lines, title):
    start = lines.index(f'{title}: seconds per run (cProfile)')
    rows = {}
    for line in lines[start + 3:]:
        if not line.startswith('|'):
            break
        name, *cells = [cell.strip() for cell in line.strip('|').split('|')]
        rows[name] = [float(cell) for cell in cells]
    return rows


def test_stage_tables_cover_every_stage_of_both_models():
    lines = run_profile_orcnn(OrcnnBenchmarkSettings(**TINY), repeats=1)
    for title, stages in (('inference', INFERENCE_STAGES), ('train step', TRAIN_STAGES)):
        rows = _table(lines, title)
        assert list(rows) == [name.strip() for name, _ in stages] + ['total']
        for name, (mrcnn, orcnn, diff) in rows.items():
            assert diff == pytest.approx(orcnn - mrcnn, abs=2e-3), name
    inference = _table(lines, 'inference')
    # Mask R-CNN has no occlusion order; ORCNN's stages are all found and timed
    assert inference['occlusion order'][0] == 0
    assert all(orcnn > 0 for name, (_, orcnn, _) in inference.items())
    assert any(line.startswith('  per head / one pass: ') for line in lines)


def test_paste_comparison_refuses_masks_that_differ(monkeypatch):
    real = profile_orcnn.paste_each_head

    def wrong(*args, **kwargs):
        results_list = real(*args, **kwargs)
        results_list[0].visible_masks = ~results_list[0].visible_masks
        return results_list

    monkeypatch.setattr(profile_orcnn, 'paste_each_head', wrong)
    models, inputs, sample = profile_orcnn.benchmark_models(OrcnnBenchmarkSettings(**TINY))
    with pytest.raises(AssertionError, match='visible_masks differs'):
        profile_orcnn.compare_pastes(models['ORCNN'], inputs, sample, 1, 0, 'cpu')


def test_paste_comparison_reports_the_paired_ratio():
    lines = PasteComparison([1.0, 2.0, 1.0], [3.0, 4.0, 2.0]).lines(100)
    assert lines[-1].startswith('  per head / one pass: 2.00 (min-max 2.00..3.00')
    assert 'saved per image: 2.000 (min-max 1.000..2.000' in lines[-1]
