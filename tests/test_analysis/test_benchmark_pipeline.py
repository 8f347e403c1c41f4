"""mmorcnn.analysis.benchmark_pipeline (tools/analysis_tools/benchmark_pipeline.py) on tiny
generated data (its timing is not tested)."""
import pytest

from mmorcnn.analysis.benchmark_pipeline import PipelineBenchmarkSettings, run_benchmark_pipeline


# The Mask R-CNN pipeline is mmdet's: its LoadAnnotations decodes polygons with pycocotools'
# decode, which warns under numpy 2 on every call (an __array__ without numpy 2's copy argument).
@pytest.mark.filterwarnings('ignore:__array__ implementation:DeprecationWarning:pycocotools')
def test_times_both_pipelines_on_the_same_instances_and_prints_the_ratio_last(capsys):
    medians = run_benchmark_pipeline(PipelineBenchmarkSettings(
        height=48, width=64, objects=4, num_images=2, repeats=1, warmup=0))
    assert sorted(medians) == ['Mask R-CNN', 'ORCNN'] and min(medians.values()) > 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[-1].startswith('ORCNN / Mask R-CNN pipeline, paired by image: ')
    assert 'min-max' in lines[-1] and 'IQR' in lines[-1]
    assert 'LoadAmodalAnnotations' in out and 'PackDetInputs' in out
    # the pipelines differ only in loading and packing
    orcnn = next(line for line in lines if line.startswith('ORCNN       Load'))
    mrcnn = next(line for line in lines if line.startswith('Mask R-CNN  Load'))
    assert orcnn.replace('Amodal', '').split()[1:] == mrcnn.split()[2:]
