#!/usr/bin/env bash
# Start a tool of this folder on one or more nodes with torchrun; tools/dist_train.sh and
# tools/dist_test.sh call it:
#   [NNODES=1] [NODE_RANK=0] [MASTER_ADDR=127.0.0.1] [PORT=29500] [PYTHON=python] \
#   bash tools/dist_run.sh TOOL NUM_PROCS [TOOL's arguments]        (TOOL: train.py, test.py)
# torchrun starts NUM_PROCS processes on this node (one per GPU; without CUDA, CPU processes
# joined by gloo). Several nodes: the same command on each, NODE_RANK 0 .. NNODES-1, MASTER_ADDR
# the address of node 0 (docs/distributed.md).
TOOL=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
"$PYTHON" -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    "$(dirname "$0")/$TOOL" \
    "${@:3}" \
    --launcher pytorch
