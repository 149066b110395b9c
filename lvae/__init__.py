"""lvae: learned-variance VAEs, and a reproducible companion to Berger & Sebag (2020).

``lvae.fit`` trains VAEs on your own data and ``lvae.load`` reads a saved one back (see
``lvae.api``). Importing ``lvae`` does not import torch: the two are thin wrappers that
import ``lvae.api`` when called, so the command line answers quickly.
"""

__version__ = "0.1.0"


def fit(x, observation="per-dimension", **options):
    """Train a Gaussian VAE on ``x``, once per seed, all seeds in one stack.

    ``x``: (N, D) vectors or (N, C, H, W) images in [0, 1] (tensor, numpy array or .npy
    path); ``observation``: "per-dimension", "scalar" or "fixed" (then ``sigma=`` is
    required). Returns an ``lvae.api.FittedVAE``. Every option is documented in
    ``lvae.api.fit``.
    """
    from .api import fit as _fit

    return _fit(x, observation, **options)


def load(directory, device="auto"):
    """A stack saved by ``FittedVAE.save``, on ``device`` (auto: CUDA when present).

    Returns an ``lvae.api.FittedVAE``; see ``lvae.api.load``.
    """
    from .api import load as _load

    return _load(directory, device)
