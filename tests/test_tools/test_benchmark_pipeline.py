"""tools/analysis_tools/benchmark_pipeline.py on tiny generated data (its timing is not tested)."""
import importlib.util
import os.path as osp

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'benchmark_pipeline', osp.join(REPO_ROOT, 'tools/analysis_tools/benchmark_pipeline.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_times_both_pipelines_on_the_same_instances_and_prints_the_ratio_last(capsys):
    load_tool().main(['--height', '48', '--width', '64', '--objects', '4', '--num-images', '2',
                      '--repeats', '1', '--warmup', '0'])
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[-1].startswith('ORCNN / Mask R-CNN pipeline: ') and lines[-1].endswith('x')
    assert 'LoadAmodalAnnotations' in out and 'PackDetInputs' in out
    # the pipelines differ only in loading and packing
    orcnn = next(line for line in lines if line.startswith('ORCNN       Load'))
    mrcnn = next(line for line in lines if line.startswith('Mask R-CNN  Load'))
    assert orcnn.replace('Amodal', '').split()[1:] == mrcnn.split()[2:]
