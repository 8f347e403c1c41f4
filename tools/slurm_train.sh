#!/usr/bin/env bash
# Training on a Slurm cluster, like mmdet's tools/slurm_train.sh:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] [PYTHON=python] \
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
# One task per GPU (tools/slurm_run.sh); srun blocks until the job ends.
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
exec bash "$(dirname "$0")/slurm_run.sh" train.py "$PARTITION" "$JOB_NAME" ${CONFIG} \
    --work-dir=${WORK_DIR} "${@:5}"
