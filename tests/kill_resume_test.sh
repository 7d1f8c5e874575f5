#!/usr/bin/env bash
# A run killed with SIGKILL at a random moment and resumed from its last checkpoint, and a run
# stopped with Ctrl-C (SIGINT) and resumed, must end with weights bitwise identical to an
# uninterrupted run with the same seed.  Usage: kill_resume_test.sh PATH/TO/actlab
set -euo pipefail
actlab="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--data spirals:20000 --epochs 25 --hidden 64,64 --threads 1)

start=$(date +%s.%N)
"$actlab" train "${args[@]}" --out "$work/whole" > /dev/null 2>&1
whole_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

check_same() {
  cmp "$work/whole/model.safetensors" "$1/model.safetensors" || { echo "FAIL: $2: weights differ"; exit 1; }
  echo "ok: $2: weights bitwise identical"
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
  else
    wait "$pid"
    echo "note: attempt $attempt finished before the kill at ${delay}s"
    check_same "$dir" "uninterrupted with checkpoints"
  fi
done

# Ctrl-C: stops at a batch boundary, saves a checkpoint, says how to resume, exits 130.
dir="$work/interrupted"
"$actlab" train "${args[@]}" --out "$dir" > "$work/int.log" 2>&1 &
pid=$!
sleep "$(awk -v t="$whole_seconds" 'BEGIN { printf "%.2f", t / 2 }')"
kill -INT "$pid" 2>/dev/null || true
set +e; wait "$pid"; rc=$?; set -e
if [ "$rc" -eq 130 ]; then
  grep -q "continue with: actlab train --resume $dir" "$work/int.log" || { echo "FAIL: no resume hint"; cat "$work/int.log"; exit 1; }
  "$actlab" train --resume "$dir" --threads 1 > /dev/null 2>&1
  check_same "$dir" "SIGINT, resumed"
else
  echo "note: the run ended (rc $rc) before SIGINT arrived"
  check_same "$dir" "uninterrupted"
fi
echo "kill-and-resume: passed"
