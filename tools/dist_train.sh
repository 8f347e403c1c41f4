#!/usr/bin/env bash
# Distributed training on one or more nodes, like mmdet's tools/dist_train.sh:
#   [NNODES=1] [NODE_RANK=0] [MASTER_ADDR=127.0.0.1] [PORT=29500] [PYTHON=python] \
#   bash tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
# One process per GPU, or CPU processes joined by gloo without CUDA (tools/dist_run.sh,
# docs/distributed.md).
CONFIG=$1
GPUS=$2
exec bash "$(dirname "$0")/dist_run.sh" train.py "$GPUS" "$CONFIG" "${@:3}"
