#!/usr/bin/env bash
# The issue 15/19 measurement on bench/problems-unseen40.txt, one problem at a time (Codeforces
# and Kattis alternating, so a partial run covers both sources), resumable across sessions:
#   1. today's S* (N=16, R=0) from 832ce1e, the commit that listed the problems, in its own
#      worktree (BASE) with one change: the completion cache keys a registry model by its
#      sha256 (commit 3117804), so the cache below serves every session and machine;
#   2. the new S* (N=16, R=0) and majority (N=16) from a pinned worktree of main (NEW), over the
#      same 16 samples through that cache: only their own selection requests are generated.
# The cache (bench/ccache-unseen40) is committed: it is what the model wrote, the costly part;
# records go to bench/runs, traces to $TRACES. `touch $STOP` ends the run after a problem.
#   3. with MODES="plans hints ..." (issue 19): the new S* with each --sampling mode too; the
#      new S* run above is the plain one (bench/pool.py $TRACES/MODE --against $TRACES/new).
#   4. with BUDGETS="8000 4000" (issue 15): the budgeted S* at each budget (generated tokens).
# STEPS="base new majority" picks the first steps (default: all three); FIRST=k stops after
# the first k problems of the order (a later step over the problems an earlier session did).
#
#   git worktree add --detach ../wt-base 832ce1e && (cd ../wt-base && git show 3117804 -- sstar/engine | git apply -3)
#   git worktree add --detach ../wt-new HEAD
#   bash bench/unseen40.sh ../wt-base ../wt-new
set -u
BASE=$(realpath "$1") NEW=$(realpath "$2")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/benchmarks}
TRACES=${TRACES:-$ROOT/../traces-s40}
STOP=${STOP:-$ROOT/../STOP-unseen40}
PY=${PY:-$ROOT/.venv/bin/python}
B=$ROOT/bench
CC="--model qwen2.5-coder-1.5b --no-cache --completion-cache $B/ccache-unseen40 --sandbox docker"
order() {  # the list's Codeforces and Kattis problems, alternating
  grep -v '^#' "$B/problems-unseen40.txt" | awk '/^codecontests/{c[n1++]=$0} /^kattis/{k[n2++]=$0}
    END{for(i=0;i<n1||i<n2;i++){if(i<n1)print c[i]; if(i<n2)print k[i]}}'
}
run() {  # worktree, then batch arguments
  local wt=$1; shift
  (cd "$wt" && PYTHONPATH=$wt nice -n 5 "$PY" -m sstar.cli.main batch "$@" $CC --resume) 2>&1 | tail -2
}
order | head -n "${FIRST:-40}" | while read -r rel; do
  P=$SHARED/$rel
  echo "=== $(date +%T) $rel"
  case " ${STEPS:-base new majority} " in *" base "*)
    run "$BASE" "$P" --out "$B/runs/sstar-1.5b-n16r0-unseen40.jsonl" --strategy sstar -n 16 --rounds 0 --trace-dir "$TRACES/sstar" ;; esac
  case " ${STEPS:-base new majority} " in *" new "*)
    echo "--- $(date +%T) new S*"
    run "$NEW" "$P" --out "$B/runs/sstar-new-1.5b-n16r0-unseen40.jsonl" --strategy sstar -n 16 --rounds 0 --trace-dir "$TRACES/new" ;; esac
  case " ${STEPS:-base new majority} " in *" majority "*)
    echo "--- $(date +%T) majority"
    run "$NEW" "$P" --out "$B/runs/majority-1.5b-n16-unseen40.jsonl" --strategy majority -n 16 --trace-dir "$TRACES/majority" ;; esac
  for m in ${MODES:-}; do
    echo "--- $(date +%T) sampling $m"
    run "$NEW" "$P" --out "$B/runs/pool-$m-1.5b-n16r0-unseen40.jsonl" --strategy sstar -n 16 --rounds 0 --sampling "$m" --trace-dir "$TRACES/$m"
  done
  for t in ${BUDGETS:-}; do
    echo "--- $(date +%T) budget $t"
    run "$NEW" "$P" --out "$B/runs/budget$t-1.5b-unseen40.jsonl" --budget "$t" --trace-dir "$TRACES/budget$t"
  done
  [ -e "$STOP" ] && { echo "stopped: $STOP"; break; }
done
echo "=== done $(date +%T)"
