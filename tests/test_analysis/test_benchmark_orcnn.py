"""mmorcnn.analysis.benchmark_orcnn (tools/analysis_tools/benchmark_orcnn.py): the verdict from
paired repetitions, and a run on the tiny r18 configs (its timing is not tested)."""
import subprocess
import sys

import pytest

from mmorcnn.analysis.benchmark_orcnn import (OrcnnBenchmarkSettings, Spread, benchmark_models,
                                              inference_verdict, run_benchmark_orcnn)
from mmorcnn.structures.errors import AmodalError
from mmorcnn.utils import project_path


def test_spread_is_median_extremes_and_quartiles():
    spread = Spread.of([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (spread.median, spread.low, spread.high, spread.q1, spread.q3) == (3, 1, 5, 2, 4)
    assert Spread.of([2.0]).q1 == Spread.of([2.0]).q3 == 2.0
    with pytest.raises(ValueError, match='no measurements'):
        Spread.of([])


def test_verdict_pairs_the_repetitions():
    # repetition k: Mask R-CNN 1 s, Mask R-CNN + one mask head 1.1 s, ORCNN 1.1 s + k ms
    mrcnn, floor = [1.0] * 5, [1.1] * 5
    orcnn = [1.1 + 0.001 * k for k in range(5)]
    verdict = inference_verdict(mrcnn, orcnn, floor)
    assert verdict.floor.median == pytest.approx(1.1)
    assert verdict.ratio.median == pytest.approx(1.102)
    assert verdict.excess.median == pytest.approx(0.002)
    assert verdict.within_goal and verdict.beyond_noise  # small, but in every repetition
    text = '\n'.join(verdict.lines())
    assert 'verdict: PASS' in text and 'beyond the noise' in text and 'floor' in text


def test_verdict_fails_above_the_tolerance_and_sees_noise():
    mrcnn, floor = [1.0, 1.0, 1.0, 1.0], [1.1] * 4
    too_slow = inference_verdict(mrcnn, [1.15, 1.16, 1.14, 1.15], floor)
    assert not too_slow.within_goal and 'verdict: FAIL' in '\n'.join(too_slow.lines())
    noisy = inference_verdict(mrcnn, [1.05, 1.15, 1.08, 1.12], floor)  # excess -0.05..+0.05
    assert not noisy.beyond_noise and 'within the noise' in '\n'.join(noisy.lines())
    with pytest.raises(ValueError, match='unpaired'):
        inference_verdict(mrcnn, [1.1], floor)


def test_run_on_tiny_models_prints_floor_excess_noise_and_verdict(capsys):
    times = run_benchmark_orcnn(OrcnnBenchmarkSettings(
        mrcnn_config=project_path('configs', 'amodal_mask_rcnn',
                                  'amodal-mask-rcnn_r18_fpn_tiny_synthetic.py'),
        orcnn_config=project_path('configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py'),
        shape=(160, 224), detections=5, num_gts=2, iters=3, warmup=0, device='cpu',
        release_memory=True))
    assert {name: len(t) for name, t in times['inference'].items()} == {
        'Mask R-CNN': 3, 'ORCNN': 3, 'Mask R-CNN + one mask head': 3}
    assert sorted(times['train step']) == ['Mask R-CNN', 'ORCNN']
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith('verdict: ')
    assert any(line.startswith('excess (ORCNN - floor)') for line in lines)
    assert any(line.startswith('noise (IQR width') for line in lines)


FAULTS_OF_A_SECOND_BUFFER = '''
import resource, sys
import torch
from mmorcnn.analysis.benchmark_orcnn import keep_freed_memory
if sys.argv[1] == 'keep':
    assert keep_freed_memory()
def faults_of_a_64mb_buffer():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(64 * 2**20, dtype=torch.uint8)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
faults_of_a_64mb_buffer()  # the first buffers of a size settle where they are kept
print(min(faults_of_a_64mb_buffer() for _ in range(4)))
'''


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc malloc settings')
def test_kept_memory_serves_the_buffers_of_later_runs_without_page_faults():
    faults = {mode: int(subprocess.run([sys.executable, '-c', FAULTS_OF_A_SECOND_BUFFER, mode],
                                       capture_output=True, text=True, check=True).stdout)
              for mode in ('keep', 'release')}
    # glibc's defaults map every such buffer afresh: 16384 new 4 KiB pages each time
    assert faults['release'] > 10000
    assert faults['keep'] < 100  # kept: later buffers reuse the pages of earlier ones


def test_swapped_or_unlike_configs_are_named_before_any_timing():
    tiny = dict(shape=(160, 224), detections=5, num_gts=2, device='cpu')
    mrcnn = project_path('configs', 'amodal_mask_rcnn', 'amodal-mask-rcnn_r18_fpn_tiny_synthetic.py')
    orcnn = project_path('configs', 'orcnn', 'orcnn_r18_fpn_tiny_synthetic.py')
    with pytest.raises(AmodalError, match=r'amodal-mask-rcnn_r18_fpn_tiny_synthetic\.py: '
                       r'--orcnn-config must be an ORCNN config'):
        benchmark_models(OrcnnBenchmarkSettings(mrcnn_config=mrcnn, orcnn_config=mrcnn, **tiny))
    with pytest.raises(AmodalError, match=r'orcnn_r18_fpn_tiny_synthetic\.py: --mrcnn-config must '
                       r'be a Mask R-CNN config'):
        benchmark_models(OrcnnBenchmarkSettings(mrcnn_config=orcnn, orcnn_config=orcnn, **tiny))
    r50 = project_path('configs', 'orcnn', 'orcnn_r50_fpn_10k_d2sa.py')
    with pytest.raises(AmodalError, match='cannot take the weights of .*amodal-mask-rcnn_r18'):
        benchmark_models(OrcnnBenchmarkSettings(mrcnn_config=mrcnn, orcnn_config=r50, **tiny))
