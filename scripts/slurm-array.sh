#!/usr/bin/env bash
# A SLURM job array that trains one run of a sweep's plan per task, all into one shared folder.
#
#   n=$(highway plan configs/fig1-mnist.json --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))')
#   mkdir -p logs   # SLURM opens the --output file before the script runs
#   sbatch --array=0-$((n-1))%50 scripts/slurm-array.sh configs/fig1-mnist.json
#   # when the array is done (or at any time, for what has finished so far):
#   highway report results/fig1-mnist
#
# Each task runs `highway run CONFIG`, which reads its index from $SLURM_ARRAY_TASK_ID. A task
# whose run is already done exits at once, so resubmitting the whole array after failures or
# preemption only redoes what is missing. Give every task the same --out on a shared filesystem.
#
# Trials together: one task per group of trials (a search cell) trained as one stack, the task
# index choosing the group (`--group task`); `highway plan CONFIG --groups` lists them. The
# paper's protocol (8 cells of 100 trials) is then an 8-task array:
#
#   highway plan configs/fig1-mnist-search.json --set search.trials=100 --set execution.batch_trials=100 --groups
#   sbatch --array=0-7 scripts/slurm-array.sh configs/fig1-mnist-search.json --group task \
#       --set search.trials=100 --set execution.batch_trials=100
#
# A group's task checkpoints every trial on the warning signal, requeues itself and continues
# where the group stopped; its trials' records are those of the runs trained one by one.
#
# Preemption and time limits: SLURM sends SIGUSR1 to the batch shell 120 s before the time
# limit (or a preemption with a grace time). `B:` sends it to the batch shell itself, which is
# the process here (no `srun` step; `exec` below makes the shell `highway`): without `B:` the
# signal would go only to job steps, and there are none. `highway` then finishes its current
# step, writes the run's checkpoint, requeues this array task (`scontrol requeue
# <array job>_<task>`) and exits; the requeued task continues from the checkpoint. SIGTERM
# (`scancel`, or a preemption without the warning) also checkpoints, but does not requeue.
# `--open-mode=append` keeps the log of every attempt in one file.
#SBATCH --signal=B:USR1@120
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --job-name=highway
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --output=logs/highway-%A_%a.log
set -euo pipefail
config=${1:?usage: sbatch --array=0-N scripts/slurm-array.sh CONFIG [--group task] [extra highway run flags]}
shift
mkdir -p logs
# Keep BLAS/rayon pools to the cores SLURM gave us.
export RAYON_NUM_THREADS=${SLURM_CPUS_PER_TASK:-2}
exec "${HIGHWAY_BIN:-highway}" run "$config" "$@"
