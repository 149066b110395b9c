"""``python -m lvae fit data.npy ...``: train VAEs on your own data and save them.

No torch import at module level: the parser is built, and simple mistakes are answered,
without it; ``lvae.api`` is imported only to train.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from .cli_options import add_precision_option

# What FittedVAE.save writes (lvae.api, which imports torch): a folder holding either is a model.
SAVED_FILES = ("config.json", "weights.pt")

OBSERVATION_NAMES = ("per-dimension", "scalar", "fixed")  # lvae.api.OBSERVATIONS
DEVICE_NAMES = ("auto", "cpu", "cuda")  # lvae.devices.DEVICES


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def add_fit_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``fit`` command to ``subparsers`` (from ``ArgumentParser.add_subparsers``).
    Options left out take ``lvae.fit``'s defaults, quoted in the help."""
    fit = subparsers.add_parser(
        "fit",
        help="train VAEs on your own .npy data and save them",
        description="Train a Gaussian VAE on a .npy array, one model per seed, save it to "
        "--out (load it with lvae.load), and print each seed's ELBO on the data.",
    )
    fit.add_argument(
        "data", type=Path, help=".npy file: (N, D) vectors, or (N, C, H, W) images in [0, 1]"
    )
    fit.add_argument(
        "--observation",
        choices=OBSERVATION_NAMES,
        default="per-dimension",
        help="sigma of p(x|z): per-dimension (from the decoder, LV-VAE; the default), "
        "scalar (one learned value, LS-VAE) or fixed (F-VAE, needs --sigma)",
    )
    fit.add_argument(
        "--sigma",
        type=float,
        default=None,
        help="fixed: the value (required); scalar: the initial value (default 1)",
    )
    fit.add_argument(
        "--latent-dim", type=_positive_int, default=None, help="default 2 (vectors), 16 (images)"
    )
    fit.add_argument("--steps", type=_positive_int, default=None, help="Adam steps (default 10000)")
    fit.add_argument(
        "--seeds", type=_positive_int, default=None, help="train seeds 0..N-1 (default 1)"
    )
    fit.add_argument(
        "--batch-size", type=_positive_int, default=None, help="examples per step (default 100)"
    )
    fit.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 0.001)")
    fit.add_argument(
        "--hidden",
        type=_positive_int,
        default=None,
        help="MLP units (default 64), or the conv nets' first channels (default 16)",
    )
    fit.add_argument(
        "--device", choices=DEVICE_NAMES, default="auto", help="auto picks CUDA when present"
    )
    add_precision_option(fit, "saved with the model")
    fit.add_argument("--out", type=Path, required=True, help="folder to save the model in")
    fit.add_argument("--force", action="store_true", help="replace a model already saved in --out")
    fit.add_argument(
        "--log-csv", type=Path, default=None, help="write the training log to this CSV file"
    )
    fit.add_argument(
        "--tensorboard",
        type=Path,
        default=None,
        help="write TensorBoard scalars to this folder (skipped, with a warning, when the "
        "tensorboard package is not installed)",
    )
    return fit


# argparse attribute -> lvae.fit keyword, for the options that default to lvae.fit's
_FIT_OPTIONS = {
    "sigma": "sigma",
    "latent_dim": "latent_dim",
    "steps": "steps",
    "seeds": "seeds",
    "batch_size": "batch_size",
    "lr": "lr",
    "hidden": "hidden",
}


def run_fit(args: argparse.Namespace) -> int:
    """Train, save and report. Bad input raises ValueError or FileNotFoundError, and a
    diverged run FloatingPointError: ``lvae.__main__.main`` turns them into ``error: ...``
    with exit code 2 or 1, as for every command."""
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out} exists and is not a folder")
    if not args.force and any((args.out / name).exists() for name in SAVED_FILES):
        raise ValueError(f"--out {args.out} already holds a saved model; --force replaces it")
    options = {
        kw: getattr(args, a) for a, kw in _FIT_OPTIONS.items() if getattr(args, a) is not None
    }
    tensorboard = args.tensorboard
    if tensorboard is not None and importlib.util.find_spec("tensorboard") is None:
        print(
            f"warning: --tensorboard {tensorboard} skipped: the tensorboard package is not "
            "installed (pip install tensorboard); training goes on without it",
            file=sys.stderr,
        )
        tensorboard = None
    from .api import fit

    fitted = fit(
        args.data,
        args.observation,
        device=args.device,
        precision=args.precision,
        log_csv=args.log_csv,
        tensorboard=tensorboard,
        **options,
    )
    out = fitted.save(args.out, overwrite=args.force)
    elbo = fitted.elbo(args.data).mean(dim=1).tolist()
    c = fitted.config
    print(
        f"saved to {out} ({c.observation} sigma, latent_dim {c.latent_dim}, {c.steps} steps, "
        f"{fitted.device.type}, {fitted.precision}); load it with lvae.load({str(out)!r})"
    )
    if args.log_csv is not None:
        print(f"training log: {args.log_csv}")
    print(f"final ELBO on {args.data} (nats per example, mean over the data):")
    for seed, value in zip(c.seeds, elbo, strict=True):
        print(f"  seed {seed}: {value:.4f}")
    return 0
