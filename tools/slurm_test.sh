#!/usr/bin/env bash
# Testing on a Slurm cluster, like mmdet's tools/slurm_test.sh:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] [PYTHON=python] \
#   bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
# One task per GPU (tools/slurm_run.sh); srun blocks until the job ends.
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
exec bash "$(dirname "$0")/slurm_run.sh" test.py "$PARTITION" "$JOB_NAME" ${CONFIG} \
    ${CHECKPOINT} "${@:5}"
