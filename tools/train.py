"""Train an mmorcnn (or any mmdet) model from a config, like mmdet's tools/train.py.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v ...]
    mim train mmorcnn CONFIG ...           (this script, found through mmorcnn/.mim)
    bash tools/dist_train.sh CONFIG NUM_PROCS ...      (docs/distributed.md)

The command is :mod:`mmorcnn.engine.train` (``python -m mmorcnn.engine.train`` is the same).
"""
from mmorcnn.engine.train import main

if __name__ == '__main__':
    main()
