"""What the tools in ``tools/analysis_tools/`` (and the demo) do, as importable functions: each
tool parses its arguments and calls one function of a module here.

Import the modules themselves (``from mmorcnn.analysis.ablation import run_ablation_table``):
they sit above the rest of the package (they join datasets, models, evaluation and drawing) and
``import mmorcnn`` does not load them.
"""
