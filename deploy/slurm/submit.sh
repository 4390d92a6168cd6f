#!/bin/bash
# Submits a sharded deploysim sweep to Slurm: an array job of SHARDS tasks
# (shards.sbatch), then the merge (merge.sbatch) with --dependency=afterok on the whole
# array, so it runs once every shard has succeeded and is cancelled if one fails.
#
#   SHARDS=8 SEEDS=10000 RESULTS=$PWD/results/sweep deploy/slurm/submit.sh [SBATCH_OPTION...]
#
# Settings (environment): SHARDS (default 4), SEEDS (500), SEED_BASE (0), SCENARIO
# (file or bundled name; empty: the embedded default), RESULTS (default
# ./results/slurm; must be on a file system every node sees), DEPLOYSIM (default
# deploysim on PATH), RUN_OPTIONS (further `run` options). Arguments are passed to both
# sbatch calls (e.g. --partition=short --account=lab). The last line printed is
# `shards=<job id> merge=<job id> results=<dir>`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SHARDS=${SHARDS:-4}
SEEDS=${SEEDS:-500}
SEED_BASE=${SEED_BASE:-0}
SCENARIO=${SCENARIO:-}
RESULTS=${RESULTS:-$PWD/results/slurm}
DEPLOYSIM=${DEPLOYSIM:-deploysim}
RUN_OPTIONS=${RUN_OPTIONS:-}

case $SHARDS in
    '' | *[!0-9]* | 0*) echo "submit.sh: SHARDS must be a positive integer, not '$SHARDS'" >&2; exit 2 ;;
esac

# The jobs run on other nodes and in the submit directory: hand them absolute paths.
# A scenario that is not an existing file is a bundled name and stays as it is.
case $DEPLOYSIM in */*) DEPLOYSIM=$(realpath "$DEPLOYSIM") ;; esac
if [ -n "$SCENARIO" ] && [ -e "$SCENARIO" ]; then SCENARIO=$(realpath "$SCENARIO"); fi
mkdir -p "$RESULTS/logs"
RESULTS=$(realpath "$RESULTS")
export SHARDS SEEDS SEED_BASE SCENARIO RESULTS DEPLOYSIM RUN_OPTIONS

# --export=ALL explicitly: the settings above reach the jobs even where the site's
# default is SBATCH_EXPORT=NONE.
shards_job=$(sbatch --parsable --export=ALL --array="1-$SHARDS" \
    --output="$RESULTS/logs/shard-%A_%a.out" "$@" "$here/shards.sbatch")
shards_job=${shards_job%%;*}
merge_job=$(sbatch --parsable --export=ALL --dependency="afterok:$shards_job" --kill-on-invalid-dep=yes \
    --output="$RESULTS/logs/merge-%j.out" "$@" "$here/merge.sbatch")
merge_job=${merge_job%%;*}
echo "shards=$shards_job merge=$merge_job results=$RESULTS"
