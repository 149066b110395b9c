# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproducing this book
#
# Everything in this book comes from the repository that builds it. On a fresh machine,
# two commands do all the setup; each creates its own virtual environment in `.venv`:
#
# ```bash
# make book   # execute every chapter fresh, then render the book into _build/html
# make test   # unit tests and nbval on the committed notebooks (FULL=1: also smoke runs
#             # of every chapter and a book build; CI runs that)
# ```
#
# ## Where the numbers come from
#
# Chapters never train models with hand-written loops. They ask `lvae.experiments` for a
# result. If `results/` holds a record whose configuration hash matches, the record is
# loaded. Otherwise the experiment runs with a progress bar, checkpointing into
# `.checkpoints/` inside the results folder so that an interrupted run resumes where it
# stopped, and its record is written atomically. A record holds:
#
# * the full configuration and its hash (the file name), which includes a version number
#   of the training code, so records made by older code are recomputed, never reused;
# * the result: measurements only (metrics, training histories, and the few points the
#   figures need, one named panel per figure); what follows from the configuration alone,
#   such as a theoretical optimum or the paper's convention, is computed when the book is
#   built (`lvae.analysis`), so a fix to the theory reaches every record;
# * its provenance: profile, seeds, steps, device, PyTorch, NumPy and Python versions,
#   git commit, wall time and date, and whether it resumed from the checkpoints of an
#   interrupted session; a resumed record lists every session that trained it (commit,
#   arithmetic, wall time), and its minutes below are then the sum over them, marked
#   "+" where an early session left no time (records made before sessions were logged
#   count their last session only).
#
# A record that cannot be read, is incomplete, or whose configuration does not match its
# hash is reported and recomputed, never used. Model checkpoints are not committed.
#
# These are the committed records:

# %% tags=["parameters"]
profile = "book"  # list the records of this profile

# %% tags=["hide-input"]
import json

from myst_nb import glue

from lvae import report, store

results = store.default_results_dir()
print(f"records of profile {profile} in {results.name}/:")
# Every run record, validated (a record that fails its hash check stops the book here);
# results/bench/ holds speed measurements, and the hidden folders (.sweeps/, .checkpoints/,
# .locks/) a sweep's bookkeeping, which are not run records.
records = [
    store.Record.load(path)
    for path in sorted(results.glob("*/*.json"))
    if path.parent.name != "bench" and not path.parent.name.startswith(".")
]
rows = [
    [
        r.experiment,
        len(r.provenance["seeds"]),
        r.provenance["steps"],
        r.provenance["device"],
        r.provenance["torch"],
        report.short_commit(r.provenance["git_commit"], 10),
        report.minutes(r.provenance),
        r.config_hash,
    ]
    for r in records
    if r.provenance["profile"] == profile
]
report.table(
    rows,
    ["experiment", "seeds", "steps", "device", "torch", "commit", "minutes", "record"],
    caption=f"Records of profile {profile} in {results.name}/: the scale and provenance of every "
    "number in the book (minutes of wall time; record: the configuration hash, its file name).",
    name="records",
)

# %% [markdown]
# `table1` has three records: the one the chapters use (10 seeds, one latent dimension,
# with the ELBO monitored along training); a run four times longer on three seeds, with
# which chapter 3 tests whether σ stops falling; and our first version with two latent
# dimensions, which chapter 3 keeps to show why σ never settles there. The first two
# `table1` records and the three image records were trained two at a time with one CPU core each
# (`OMP_NUM_THREADS=1`), so their wall times are single-core times.
#
# ## How fast the training engine is
#
# All seeds and settings of an experiment train as one *stacked* model: each layer holds
# the weights of every model in one tensor and runs them with a single batched matrix
# product. `python -m lvae bench` measures model-steps per second of this engine against
# a plain loop that trains ordinary `nn.Linear` networks one at a time, on the same
# device, in the same run. The measurements below were stored with `--save`.

# %% tags=["hide-input"]
bench_devices, headroom = [], {}
for path in sorted((results / "bench").glob("*.json")):
    rec = json.loads(path.read_text())
    bench_devices.append(rec["provenance"]["device"])
    r, hw, p = rec["result"], rec["hardware"], rec["provenance"]
    print(
        f"{p['device']} ({hw['cpu']}, {hw['cpu_count']} cores, {hw['torch_threads']} torch "
        f"threads);\n  torch {p['torch']}; commit {report.short_commit(p['git_commit'], 10)}"
    )
    print(
        f"  {r['models']} models, {r['n_blocks']} blocks x {r['hidden']} units "
        f"({r['profile']} profile), {r['steps']} timed steps each"
    )
    print(
        f"  stacked {r['stacked_model_steps_per_s']:,.0f} model-steps/s, loop "
        f"{r['loop_model_steps_per_s']:,.0f} model-steps/s: speedup {r['speedup']:.1f}x"
    )
    if r.get("limit_model_steps_per_s"):  # measured since the bench times the bare matmuls
        limit = r["limit_model_steps_per_s"]
        print(
            f"  limit (bare batched matmuls): {limit:,.0f} model-steps/s; engine at "
            f"{r['stacked_model_steps_per_s'] / limit:.0%} of it"
        )
        headroom[(p["device"], r["profile"])] = limit / r["loop_model_steps_per_s"]

cpu_paper = headroom.get(("cpu", "paper"), float("nan"))
glue("cpu_paper_headroom", report.fmt(cpu_paper, 2), display=False)
gpus = sorted({d for d in bench_devices if d != "cpu"})
glue(
    "gpu_bench_status",
    f"Measured on GPU: {', '.join(gpus)}."
    if gpus
    else "No GPU measurement is stored yet: none was available when these records were made.",
    display=False,
)

# %% [markdown]
# The stacked engine gains most where many small operations would each pay Python and
# dispatch overhead. That is the case for the `book` networks on a CPU. At the paper's
# width, on two CPU cores, the matrix products themselves dominate and the gain shrinks:
# there, even bare batched products of the same shapes, with no activation, loss or
# optimiser, are only {glue:text}`cpu_paper_headroom` times faster than the one-model
# loop, so no stacked engine can beat the loop by more than that on this machine.
# On a GPU, one batched product per layer keeps the device busy where a loop of small
# models cannot. {glue:text}`gpu_bench_status`
#
# ## Re-executing one chapter
#
# The jupytext `notebooks/NN_topic.py` file is the source of a chapter. The `.ipynb` beside
# it holds the outputs that the book shows and that nbval checks. To re-execute a chapter
# on another profile with papermill:
#
# ```bash
# .venv/bin/jupytext --to ipynb -o /tmp/ch2.ipynb notebooks/02_toy_2d.py
# .venv/bin/papermill /tmp/ch2.ipynb /tmp/ch2_out.ipynb -p profile smoke
# ```
#
# To render the whole book on another profile, use `make book PROFILE=smoke`. After editing
# a chapter, `make notebooks` refreshes the committed outputs.
#
# ## Training at another scale, and on a GPU
#
# ```bash
# .venv/bin/python -m lvae list
# .venv/bin/python -m lvae run table1 --profile paper --device cuda
# .venv/bin/python -m lvae bench --device cuda --save
# ```
#
# `--seeds N`, `--steps N` and `--results-dir DIR` override the profile; `--help` lists
# every option. Where an NVIDIA GPU is present, `make` installs PyPI's CUDA build of
# PyTorch by itself; to choose another build, remove `.venv` and name it:
#
# ```bash
# make test TORCH="torch==2.13.0" TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
# ```
#
# The `paper` profile uses the paper's networks (four residual blocks of 200 units). It is
# meant for a GPU and has not been run for the committed results. No GPU was available
# when they were made, and every table prints the device its numbers come from.
#
# ## The whole paper on a cluster
#
# `python -m lvae sweep` turns a grid over a profile's configuration into one cluster job
# per configuration, through submitit (SLURM) or Ray, and skips every configuration whose
# record is already stored. A job that reaches its time limit writes a checkpoint, is
# requeued and resumes, and a configuration submitted twice is trained once (each holds a
# lock while it trains). On a SLURM cluster with one GPU per job:
#
# ```bash
# .venv/bin/pip install 'lvae[slurm]'
# for experiment in sphere-vae table1 kl-weight images-mnist images-celeba; do
#   .venv/bin/python -m lvae sweep $experiment --profile paper --executor slurm \
#       --gpus 1 --cpus 8 --timeout-min 240 --partition gpu
# done
# .venv/bin/python -m lvae sweep table1 --profile paper --set latent_dim=1,2,4 \
#     --executor slurm --gpus 1 --cpus 8 --timeout-min 240 --partition gpu
# .venv/bin/python -m lvae sweep --status
# ```
#
# The measured cost of each experiment is the wall time in the table of records at the
# top of this page, for the profile and device named there. The paper profiles have not
# been timed on a GPU yet (none was available), so their cost on one is not given here;
# `python -m lvae run <experiment> --profile paper` says, before it starts, how long a run
# estimated at over an hour will take and what the estimate rests on.
