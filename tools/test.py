"""Test (and evaluate) a checkpoint, like mmdet's tools/test.py.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl] [--show-dir DIR]
    mim test mmorcnn CONFIG --checkpoint CHECKPOINT ...
    bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS ...      (docs/distributed.md)

The command is :mod:`mmorcnn.engine.test` (``python -m mmorcnn.engine.test`` is the same).
"""
from mmorcnn.engine.test import main

if __name__ == '__main__':
    main()
