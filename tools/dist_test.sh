#!/usr/bin/env bash
# Distributed testing on one or more nodes, like mmdet's tools/dist_test.sh:
#   [NNODES=1] [NODE_RANK=0] [MASTER_ADDR=127.0.0.1] [PORT=29500] [PYTHON=python] \
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options]
# One process per GPU, or CPU processes joined by gloo without CUDA (tools/dist_run.sh,
# docs/distributed.md).
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
exec bash "$(dirname "$0")/dist_run.sh" test.py "$GPUS" "$CONFIG" "$CHECKPOINT" "${@:4}"
