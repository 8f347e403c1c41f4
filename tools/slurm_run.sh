#!/usr/bin/env bash
# Start a tool of this folder on a Slurm cluster, one task per GPU; tools/slurm_train.sh and
# tools/slurm_test.sh call it:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] [PYTHON=python] \
#   bash tools/slurm_run.sh TOOL PARTITION JOB_NAME [TOOL's arguments]   (TOOL: train.py, test.py)
# The tool's --launcher slurm sets up torch.distributed from Slurm's environment (mmengine).
# srun blocks until the job ends.
set -x

TOOL=$1
PARTITION=$2
JOB_NAME=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
PY_ARGS=${@:4}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    ${PYTHON} -u "$(dirname "$0")/${TOOL}" ${PY_ARGS} --launcher="slurm"
