#!/usr/bin/env bash
# One command for the day a GPU machine is lent: install, measure, train at the paper's
# scale, and list the records to commit.
#
#   tools/gpu_session.sh                          # bench, then the protocol's Table 1 (latent 1, 2, 4)
#   tools/gpu_session.sh table1                   # bench, then only the paper-scale Table 1
#   tools/gpu_session.sh --minutes 8 --no-bench sphere-vae kl-weight
#   tools/gpu_session.sh --dry-run                # print the commands, run nothing
#
# Steps: `make .venv/.installed` (PyPI's CUDA build of torch where nvidia-smi lists a GPU);
# `nvidia-smi -L`; `lvae bench --profile paper --save` (stored in results/bench/) and
# `bench --images`; then `lvae run EXPERIMENT --profile paper --device cuda --yes` for each
# experiment, each under a time limit. At the limit the run gets SIGINT, as Ctrl-C: it
# stops at the end of a step and writes its checkpoint, so running this script again
# resumes it. A step that fails or runs out of time does not stop the ones after it; the
# summary at the end says how each went, and lists the new records under results/.
set -euo pipefail

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    cat <<'EOF'

Options:
  --dry-run          print the commands, run nothing
  --minutes N        time limit of each experiment, in minutes (default 20)
  --bench-minutes N  time limit of each bench, in minutes (default 10)
  --precision P      fp32, tf32 or bf16, for the benches and the runs (default: lvae's, tf32 on CUDA)
  --no-bench         skip the two benches
  -h, --help         this text
Experiments (default: table1-calibrated table1-calibrated-latent2 table1-calibrated-latent4,
the protocol's tables on the paper's network): any name `python -m lvae list` gives.
EOF
}

dry_run=0
minutes=20
bench_minutes=10
precision=""
bench=1
experiments=()
while (($#)); do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --minutes | --bench-minutes | --precision)
            if (($# < 2)); then
                echo "error: $1 needs a value" >&2
                exit 2
            fi
            case "$1" in
                --minutes) minutes="$2" ;;
                --bench-minutes) bench_minutes="$2" ;;
                --precision) precision="$2" ;;
            esac
            shift
            ;;
        --no-bench) bench=0 ;;
        -h | --help)
            usage
            exit 0
            ;;
        -*)
            echo "error: unknown option $1 (see --help)" >&2
            exit 2
            ;;
        *) experiments+=("$1") ;;
    esac
    shift
done
for value in "$minutes" "$bench_minutes"; do
    if ! [[ "$value" =~ ^[1-9][0-9]*$ ]]; then
        echo "error: --minutes and --bench-minutes must be whole numbers >= 1, got '$value'" >&2
        exit 2
    fi
done
case "$precision" in
    "" | fp32 | tf32 | bf16) ;;
    *)
        echo "error: --precision must be one of fp32, tf32, bf16, got '$precision'" >&2
        exit 2
        ;;
esac
if ((${#experiments[@]} == 0)); then
    # The protocol's calibrated Table 1 at each latent size: what issue 11 asks of a GPU.
    experiments=(table1-calibrated table1-calibrated-latent2 table1-calibrated-latent4)
fi

cd "$(dirname "$0")/.."
PY=.venv/bin/python
precision_flag=()
if [[ -n "$precision" ]]; then
    precision_flag=(--precision "$precision")
fi

# Print a command, then run it (unless --dry-run).
run() {
    printf '+'
    printf ' %q' "$@"
    printf '\n'
    if ((dry_run)); then
        return 0
    fi
    "$@"
}

summary=()
failed=0
# step LABEL COMMAND...: run it, note how it ended, and go on whatever happened.
step() {
    local label="$1" status=0
    shift
    echo
    echo "== $label"
    run "$@" || status=$?
    if ((dry_run)); then
        summary+=("(dry run) $label")
        return 0
    fi
    case "$status" in
        0) summary+=("done     $label") ;;
        124) summary+=("stopped  $label: time limit; checkpoint kept, run again to resume") ;;
        130) summary+=("stopped  $label: interrupted; checkpoint kept, run again to resume") ;;
        *)
            summary+=("FAILED   $label (exit $status)")
            failed=1
            ;;
    esac
}

# A limit of M minutes: then SIGINT (as Ctrl-C: a checkpoint at the end of the step), and
# a kill 2 minutes later if the run has not stopped. --foreground keeps the run in the
# terminal's process group, so a real Ctrl-C reaches it too.
limit() {
    echo timeout --foreground -s INT -k 120 "$(($1 * 60))"
}

echo "== lvae GPU session: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "   experiments: ${experiments[*]} (paper profile, $minutes min each)"
echo "   precision: ${precision:-lvae default (tf32 on CUDA)}; bench: $([[ $bench == 1 ]] && echo "yes, $bench_minutes min each" || echo no)"
if ((dry_run)); then
    echo "   dry run: commands are printed, not run"
fi

echo
echo "== environment"
run make .venv/.installed
run nvidia-smi -L
run "$PY" -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name())"

records_before=""
if ((!dry_run)); then
    # Unknown experiment names are refused now, not after the benches.
    known="$("$PY" -m lvae list | awk '{print $1}')"
    for name in "${experiments[@]}"; do
        if ! grep -qx -- "$name" <<<"$known"; then
            echo "error: unknown experiment '$name'; one of: $(echo $known)" >&2
            exit 2
        fi
    done
    records_before="$(git status --porcelain --untracked-files=all -- results/)"
fi

if ((bench)); then
    step "bench, paper-width MLPs (stored in results/bench/)" \
        $(limit "$bench_minutes") "$PY" -m lvae bench --device cuda --profile paper --save "${precision_flag[@]}"
    step "bench --images" $(limit "$bench_minutes") "$PY" -m lvae bench --device cuda --images "${precision_flag[@]}"
fi
for name in "${experiments[@]}"; do
    step "$name, paper profile" $(limit "$minutes") \
        "$PY" -m lvae run "$name" --profile paper --device cuda --yes "${precision_flag[@]}"
done

echo
echo "== summary"
printf '   %s\n' "${summary[@]}"
echo
echo "== new or changed records under results/ (commit these)"
run git status --porcelain --untracked-files=all -- results/
if ((!dry_run)); then
    records_after="$(git status --porcelain --untracked-files=all -- results/)"
    if [[ "$records_after" == "$records_before" ]]; then
        echo "   (none new in this session)"
    else
        echo "   then: git add results/ && git commit -m 'Paper-scale records from a GPU session'"
    fi
fi
exit "$failed"
