#!/usr/bin/env bash
# CI speed/memory gate: measures the checked-out build (candidate) against a baseline build measured in
# the same job on the same machine, interleaved A/B, and runs `hil gate` on the two sets. A stored
# absolute time would compare different CI machines; two builds measured side by side compare builds.
#
#   scripts/ci-gate.sh            (after npm run build; called from .ci/run)
#
# Environment:
#   HIL_GATE_BASE_REF   git ref of the baseline build (default HEAD~1; with uncommitted changes, HEAD)
#   HIL_GATE_ROUNDS     interleaved rounds (default 4); each round runs 2 repeats per side
#   HIL_MODELS_DIR      with the DTACSNet weights, the real CNN_corrector runs; else no-correction
#   HIL_GATE_JUNIT      also write JUnit XML here
#   GITHUB_STEP_SUMMARY appended with the Markdown summary when set
# Exit codes are hil gate's: 0 pass, 1 regression, 2 bad input, 3 not comparable.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
rounds="${HIL_GATE_ROUNDS:-4}"
work="$(mktemp -d "${TMPDIR:-/tmp}/hil-ci-gate-XXXXXX")"
base_tree="$work/base"
cleanup() {
  git -C "$repo" worktree remove --force "$base_tree" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

[ -f dist/cli/main.js ] || { echo "ci-gate: dist/cli/main.js is missing — run npm run build first" >&2; exit 2; }

# The baseline: the previous commit, or HEAD when the working tree has changes of its own.
if [ -n "${HIL_GATE_BASE_REF:-}" ]; then
  base_ref="$HIL_GATE_BASE_REF"
elif [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  base_ref=HEAD
else
  base_ref=HEAD~1
fi
base_cli=""
if base_sha="$(git rev-parse --verify --quiet "$base_ref^{commit}")" && git worktree add --detach --quiet "$base_tree" "$base_sha" 2>/dev/null; then
  ln -s "$repo/node_modules" "$base_tree/node_modules"
  # The base's own build script: since the WebAssembly kernels it is more than tsc.
  if (cd "$base_tree" && npm run --silent build) >"$work/base-build.log" 2>&1 || [ -f "$base_tree/dist/cli/main.js" ]; then
    base_cli="$base_tree/dist/cli/main.js"
    echo "ci-gate: baseline $base_ref (${base_sha:0:12}), candidate the working tree"
  fi
fi
if [ -z "$base_cli" ]; then
  # Without a baseline build (shallow clone, first commit, a base that no longer builds) the gate still
  # runs, build against itself, so that its own machinery is exercised; it cannot see a regression then.
  echo "ci-gate: WARNING no baseline build from '$base_ref'; gating the candidate against itself" >&2
  base_cli="$repo/dist/cli/main.js"
fi

models=(--ac-model no-correction)
if [ -n "${HIL_MODELS_DIR:-}" ] && [ -f "$HIL_MODELS_DIR/dtacsnet/onnx/CNN_corrector.onnx" ]; then
  models=(--ac-model CNN_corrector --models-dir "$HIL_MODELS_DIR")
fi

crop="$work/crop-60m-512.tif"
node dist/cli/main.js data synth --res 60 --size 512 --out "$crop" >/dev/null

run() { # cli out-dir
  node "$1" run --target local --res 60 --scenario ac "${models[@]}" --input "$crop" --repeat 2 --out "$2" --json >"$work/last-run.jsonl"
}
for ((r = 0; r < rounds; r++)); do
  # Alternating order: neither build always runs second, on a warmer page cache.
  if ((r % 2 == 0)); then
    run "$base_cli" "$work/a/$r"; run dist/cli/main.js "$work/b/$r"
  else
    run dist/cli/main.js "$work/b/$r"; run "$base_cli" "$work/a/$r"
  fi
done

# Shared CI machines are noisy: a 15 % minimum effect on top of significance at 1 % keeps the gate quiet
# on noise (results/gate-experiment-ci-settings.json: 0/20 false alarms already at 10 %; medians of the
# same build drift by up to ~9 % here), and a failed gate fails the whole CI run.
cat >"$work/gate.json" <<'JSON'
{ "speed": { "alpha": 0.01, "minEffect": 0.15 }, "memory": { "maxGrowth": 0.10 } }
JSON
junit=()
[ -n "${HIL_GATE_JUNIT:-}" ] && junit=(--junit "$HIL_GATE_JUNIT")
set +e
node dist/cli/main.js gate --baseline "$work"/a/* --candidate "$work"/b/* --gate-config "$work/gate.json" "${junit[@]}" >"$work/summary.md"
code=$?
set -e
cat "$work/summary.md"
[ -n "${GITHUB_STEP_SUMMARY:-}" ] && cat "$work/summary.md" >>"$GITHUB_STEP_SUMMARY"
exit "$code"
