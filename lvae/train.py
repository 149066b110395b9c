"""Training a stack of VAEs with Adam on fresh batches, with a history and a NaN guard."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence

import torch
from tqdm import tqdm

from .vae import StackedVAE


class DivergenceError(FloatingPointError):
    """A loss term became NaN or infinite; the message names the step, model and term."""


def _check_finite(step: int, terms: dict[str, torch.Tensor], labels: Sequence[str]) -> None:
    for name, values in terms.items():
        bad = ~torch.isfinite(values)
        if bool(bad.any()):
            model = int(bad.any(dim=tuple(range(1, values.dim()))).nonzero()[0])
            raise DivergenceError(
                f"step {step}: term '{name}' is not finite for model {model} ({labels[model]}); "
                "no result was stored"
            )


def train_stacked(
    model: StackedVAE,
    sample_batch: Callable[[], torch.Tensor],
    *,
    steps: int,
    lr: float,
    labels: Sequence[str],
    log_every: int,
    generator: torch.Generator,
    desc: str = "training",
) -> dict[str, list]:
    """Maximise the mean ELBO of every model in the stack, one Adam step per fresh batch.

    The summed loss gives each model its own gradient (models share no parameters), and
    Adam is elementwise, so the stack trains exactly like M separate runs.
    Returns the history: the step and each model's batch-mean terms, every ``log_every`` steps.
    """
    if steps < 1 or log_every < 1:
        raise ValueError(f"steps and log_every must be >= 1, got {steps}, {log_every}")
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list] = {"step": [], "log_likelihood": [], "kl": [], "elbo": []}
    bar = tqdm(range(1, steps + 1), desc=desc, file=sys.stderr, mininterval=2.0, leave=False)
    for step in bar:
        terms = model.elbo_terms(sample_batch(), generator)
        _check_finite(step, terms, labels)
        loss = -terms["elbo"].mean(dim=1).sum()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if step % log_every == 0 or step == steps:
            history["step"].append(step)
            for name in ("log_likelihood", "kl", "elbo"):
                history[name].append(terms[name].detach().mean(dim=1).cpu().tolist())
            bar.set_postfix(elbo=f"{-loss.item() / len(labels):.3f}")
    bar.close()
    if not math.isfinite(loss.item()):
        raise DivergenceError(f"step {steps}: final loss is not finite")
    return history
