"""How sharp reconstructions are (claim I2) and how realistic generated images are, scored
by a classifier of real ones (claims I3, I4).

**Sharpness** of a reconstruction is its gradient size (the mean absolute difference of
neighbouring pixels) over that of the original: 1 is as detailed as the data, below 1
blurred.

The paper judges its generations by eye (Section 4.3): F-VAE's samples "look like noise",
its decoder means look like digits, and LV-VAE's samples are less convincing than F-VAE's
means. We put numbers on those sentences with a small convolutional classifier trained on
labelled real images that no VAE is evaluated on, the VAEs' own training images:

* **confidence**: the classifier's mean top-class probability on a set of images. Real
  held-out digits score near 1, but uniform noise scores far above chance too (about 0.75
  on the 8x8 digits: a classifier is overconfident off its data), so this is a weak
  measure of realism and the records store the noise's value beside it.
* **Fréchet distance** between the classifier's penultimate features of the generated
  images and of real held-out images, after Heusel et al. (2017) but with our classifier
  in place of Inception (which cannot be downloaded here and does not see 8x8 digits):

      FD = ||m_a - m_b||^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)),

  the 2-Wasserstein distance between Gaussians with the features' means m and covariances
  C. Lower is more realistic; two samples of the same real images score near 0 (their
  value is reported as the floor, as FD is biased upwards at finite sample sizes).

Generated images are clipped to the pixel range [0, 1] before scoring, as they are when
shown: a sample of N(mu, sigma^2) leaves that range, and clipping is what a viewer sees.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import linalg
from torch import nn

N_FEATURES = 32  # the penultimate layer's width: the features of the Fréchet distance


class DigitClassifier(nn.Module):
    """Two 3x3 convolutions (each followed by SiLU and a 2x2 average pool where the image
    is large enough), a linear layer to ``N_FEATURES`` features, and the class logits."""

    def __init__(self, image_shape: tuple[int, int, int], n_classes: int = 10):
        super().__init__()
        channels, height, width = image_shape
        layers, size = [], min(height, width)
        for c_in, c_out in ((channels, 16), (16, 32)):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.SiLU()]
            if size >= 8:  # 28 -> 14 -> 7; 8 -> 4 -> 2
                layers.append(nn.AvgPool2d(2))
                size //= 2
        self.convs = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, *image_shape)).shape[1]
        self.features = nn.Sequential(self.convs, nn.Linear(flat, N_FEATURES), nn.SiLU())
        self.head = nn.Linear(N_FEATURES, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def gradient_size(images) -> np.ndarray:
    """Mean absolute difference between neighbouring pixels, per image, (n,) from
    (n, C, H, W): mean |x[.., i, j+1] - x[.., i, j]| + mean |x[.., i+1, j] - x[.., i, j]|."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must be (n, C, H, W), got shape {images.shape}")
    dx = np.abs(np.diff(images, axis=-1)).mean(axis=(-3, -2, -1))
    dy = np.abs(np.diff(images, axis=-2)).mean(axis=(-3, -2, -1))
    return dx + dy


def sharpness(reconstructions, originals) -> float:
    """The mean over images of gradient_size(reconstruction) / gradient_size(original)."""
    return float(np.mean(gradient_size(reconstructions) / gradient_size(originals)))


def _check(images: torch.Tensor, labels: torch.Tensor | None = None) -> None:
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
    if labels is not None and labels.shape != (images.shape[0],):
        raise ValueError(
            f"labels must be (N,) = ({images.shape[0]},), got shape {tuple(labels.shape)}"
        )


def train_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    seed: int = 0,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 3e-3,
) -> DigitClassifier:
    """A ``DigitClassifier`` fitted to ``images`` (N, C, H, W) in [0, 1] and their
    ``labels`` (N,) by Adam on shuffled mini-batches; deterministic given ``seed`` (its own
    generator: no global random state is read or changed)."""
    _check(images, labels)
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # the initial weights
        model = DigitClassifier(tuple(images.shape[1:]), int(labels.max()) + 1)
    model = model.to(images.device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=gen).to(images.device)
        for start in range(0, len(images), batch_size):
            idx = order[start : start + batch_size]
            loss = nn.functional.cross_entropy(model(images[idx]), labels[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
    return model.eval()


@torch.no_grad()
def _batched(fn, images: torch.Tensor, chunk: int = 500) -> torch.Tensor:
    return torch.cat([fn(images[s : s + chunk]) for s in range(0, len(images), chunk)])


def accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of ``images`` whose top class is their label."""
    _check(images, labels)
    predicted = _batched(model, images).argmax(dim=1)
    return float((predicted == labels).float().mean())


def confidence(model: DigitClassifier, images: torch.Tensor) -> float:
    """The mean over ``images`` (clipped to [0, 1]) of the top class's probability."""
    _check(images)
    logits = _batched(model, images.clamp(0, 1))
    return float(torch.softmax(logits, dim=1).max(dim=1).values.mean())


def features(model: DigitClassifier, images: torch.Tensor) -> np.ndarray:
    """The penultimate features of ``images`` (clipped to [0, 1]), (N, N_FEATURES), float64."""
    _check(images)
    return _batched(model.features, images.clamp(0, 1)).double().cpu().numpy()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FD = ||m_a - m_b||^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)) between the Gaussians fitted
    to the rows of ``a`` (n, d) and ``b`` (m, d) (sample means, covariances with n - 1).

    (C_a C_b)^(1/2) is computed by ``scipy.linalg.sqrtm``; its imaginary part, rounding
    error for covariance matrices, is dropped."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must be (n, d) with the same d, got {a.shape}, {b.shape}")
    if min(len(a), len(b)) < 2:
        raise ValueError("a and b need at least 2 rows each for a covariance")
    mean_gap = a.mean(axis=0) - b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    value = mean_gap @ mean_gap + np.trace(cov_a + cov_b - 2 * np.real(root))
    return float(max(value, 0.0))  # negative only by rounding
