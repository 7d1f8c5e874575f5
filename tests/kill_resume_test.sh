#!/usr/bin/env bash
# A run killed with SIGKILL at a random moment and resumed from its last checkpoint, and a run
# stopped with Ctrl-C (SIGINT) and resumed, must end with weights and diagnostics bitwise identical
# to an uninterrupted run with the same seed.  Usage: kill_resume_test.sh PATH/TO/actlab
set -euo pipefail
actlab="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"  # absolute: the test changes folders
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--data spirals:20000 --epochs 25 --hidden 64,64 --threads 1)

start=$(date +%s.%N)
"$actlab" train "${args[@]}" --out "$work/whole" > /dev/null 2>&1
whole_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

# The weights, and the diagnostics of every epoch: the resumed epoch's too, whose accumulators up
# to the checkpoint come back from it.
check_same() {
  cmp "$work/whole/model.safetensors" "$1/model.safetensors" || { echo "FAIL: $2: weights differ"; exit 1; }
  cmp "$work/whole/diagnostics.jsonl" "$1/diagnostics.jsonl" || { echo "FAIL: $2: diagnostics differ"; exit 1; }
  echo "ok: $2: weights and diagnostics bitwise identical"
}

# SIGKILL at random points (between 20% and 80% of the run), resumed, maybe several times.
for attempt in 1 2 3; do
  dir="$work/killed$attempt"
  "$actlab" train "${args[@]}" --out "$dir" --checkpoint-every 40 > /dev/null 2>&1 &
  pid=$!
  delay=$(awk -v s="$RANDOM" -v t="$whole_seconds" 'BEGIN { srand(s); printf "%.2f", t * (0.2 + 0.6 * rand()) }')
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    [ -f "$dir/checkpoint.safetensors" ] || { echo "FAIL: no checkpoint after SIGKILL at ${delay}s"; exit 1; }
    "$actlab" train --resume "$dir" --threads 1 --checkpoint-every 40 > /dev/null 2>&1
    check_same "$dir" "SIGKILL after ${delay}s, resumed"
    # A kill between writing a temporary file and renaming it leaves the temporary; the resumed run
    # removes it.
    if ls -A "$dir" | grep -q '\.tmp\.'; then echo "FAIL: temporary files left: $(ls -A "$dir")"; exit 1; fi
  else
    wait "$pid"
    echo "note: attempt $attempt finished before the kill at ${delay}s"
    check_same "$dir" "uninterrupted with checkpoints"
  fi
done

# Ctrl-C: stops at a batch boundary, saves a checkpoint, says how to resume, exits 130. The run is
# started with a relative --out and resumed from another working directory: the model must land
# in the folder given to --resume. A new run into that folder is refused while the checkpoint is there.
dir="$work/interrupted"
mkdir -p "$work/elsewhere"
(cd "$work" && exec "$actlab" train "${args[@]}" --out interrupted > "$work/int.log" 2>&1) &
pid=$!
# Wait for the second epoch's line rather than for a share of the first run's time, which a cold
# first run overstates: a signal timed that way has landed after the last step.
for _ in $(seq 1 3000); do
  grep -q "^epoch   2/" "$work/int.log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
kill -INT "$pid" 2>/dev/null || true
set +e; wait "$pid"; rc=$?; set -e
if [ "$rc" -eq 130 ]; then
  grep -q "continue with: actlab train --resume interrupted" "$work/int.log" || { echo "FAIL: no resume hint"; cat "$work/int.log"; exit 1; }
  if (cd "$work" && "$actlab" train "${args[@]}" --out interrupted > "$work/again.log" 2>&1); then
    echo "FAIL: a new run into a folder with an unfinished run's checkpoint was not refused"; exit 1
  fi
  grep -q -- "--resume interrupted" "$work/again.log" || { echo "FAIL: refusal without a hint"; cat "$work/again.log"; exit 1; }
  (cd "$work/elsewhere" && "$actlab" train --resume "$dir" --threads 1 > /dev/null 2>&1)
  [ ! -e "$work/elsewhere/interrupted" ] || { echo "FAIL: the resumed run wrote into the working directory"; exit 1; }
  check_same "$dir" "SIGINT, resumed from another working directory"
else
  echo "note: the run ended (rc $rc) before SIGINT arrived"
  check_same "$dir" "uninterrupted"
fi
echo "kill-and-resume: passed"
