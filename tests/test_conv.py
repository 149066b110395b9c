"""Stacked convolutions and the convolutional VAE of Appendix B."""

import pytest
import torch
import torch.nn.functional as F

from lvae import conv
from lvae.conv import ConvDecoder, ConvEncoder, StackedConv2d, conv_networks
from lvae.images import load_images
from lvae.spec import ModelSpec
from lvae.train import train_stacked
from lvae.vae import StackedVAE


def gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


@pytest.mark.parametrize("strategy", conv.STRATEGIES)
@pytest.mark.parametrize("transpose", [False, True])
def test_stacked_convolution_equals_separate_convolutions(transpose, strategy):
    layer = StackedConv2d(gens(1, 2, 3), 2, 5, 4, stride=2, padding=1, transpose=transpose)
    x = torch.randn(3, 4, 2, 8, 8)
    with conv.strategy(strategy):
        y = layer(x)
    op = F.conv_transpose2d if transpose else F.conv2d
    for m in range(3):
        w = layer.weight.view(3, -1, *layer.weight.shape[1:])[m]
        b = layer.bias.view(3, -1)[m]
        torch.testing.assert_close(y[m], op(x[m], w, b, stride=2, padding=1))
    assert y.shape == ((3, 4, 5, 16, 16) if transpose else (3, 4, 5, 4, 4))


def conv_vae(n_models=3):
    kinds = ["vector", "fixed", "scalar"][:n_models]
    specs = [ModelSpec(kind, kind, init_seed=i) for i, kind in enumerate(kinds)]
    return StackedVAE(specs, conv_networks((1, 8, 8), width=4, n_convs=3, n_blocks=1), 4)


def test_every_strategy_gives_the_same_outputs_and_gradients():
    vae, x = conv_vae(), torch.rand(3, 5, 64)
    results = {}
    for name in conv.STRATEGIES:
        with conv.strategy(name):
            terms = vae.elbo_terms(x, torch.Generator().manual_seed(0))
        vae.zero_grad()
        terms["loss"].mean(1).sum().backward()
        grads = {n: p.grad.clone() for n, p in vae.named_parameters() if p.grad is not None}
        results[name] = (terms["loss"].detach(), grads)
    (loss_a, grads_a), (loss_b, grads_b) = results.values()
    torch.testing.assert_close(loss_a, loss_b)
    assert grads_a.keys() == grads_b.keys() and len(grads_a) > 10
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], msg=name)


def test_strategy_rule_and_override():
    assert conv.choose_strategy(torch.device("cpu")) == "per_model"
    assert conv.choose_strategy(torch.device("cuda")) == "grouped"
    with conv.strategy("grouped"):
        assert conv.choose_strategy(torch.device("cpu")) == "grouped"
    assert conv.choose_strategy(torch.device("cpu")) == "per_model"
    with pytest.raises(ValueError, match="strategy must be one of .* got 'fast'"):
        with conv.strategy("fast"):
            pass


def test_a_model_is_the_same_alone_or_in_a_stack():
    alone = StackedConv2d(gens(7), 1, 3, 3, padding=1)
    stacked = StackedConv2d(gens(5, 7), 1, 3, 3, padding=1)
    torch.testing.assert_close(alone.weight, stacked.weight[3:])


@pytest.mark.parametrize(
    "shape,n_convs", [((1, 8, 8), 3), ((1, 28, 28), 3), ((1, 64, 64), 4), ((3, 64, 64), 4)]
)
def test_encoder_and_decoder_shapes(shape, n_convs):
    c, h, w = shape
    enc = ConvEncoder(gens(0, 1), shape, 16, 8, n_convs, 2)
    dec = ConvDecoder(gens(0, 1), shape, 16, 8, n_convs, 2)
    assert enc(torch.rand(2, 5, c * h * w)).shape == (2, 5, 32)
    out = dec(torch.randn(2, 5, 16))
    assert out.shape == (2, 5, 2 * c * h * w)
    mean = out[..., : c * h * w]
    assert mean.min() >= 0 and mean.max() <= 1  # sigmoid means: pixels live in [0, 1]
    with pytest.raises(ValueError, match="cannot be halved"):
        ConvEncoder(gens(0), (1, 28, 28), 16, 8, 4, 1)


def test_conv_vae_trains_on_digits_and_models_stay_independent():
    x = load_images("digits")[:64].flatten(1)  # (64, 64)
    vae = StackedVAE(
        [ModelSpec("F", "fixed", 2**-0.5, init_seed=0), ModelSpec("LV", "vector", init_seed=1)],
        conv_networks((1, 8, 8), width=8, n_convs=3, n_blocks=1),
        latent_dim=8,
    )
    gen = torch.Generator().manual_seed(0)
    terms = vae.elbo_terms(x.expand(2, -1, -1), gen)
    terms["elbo"][0].mean().backward()
    for name, p in vae.named_parameters():
        if p.grad is not None and p.grad.dim() and p.grad.shape[0] % 2 == 0:
            half = p.grad.shape[0] // 2
            assert torch.all(p.grad[half:] == 0), name  # model 1 untouched by model 0's loss
    vae.zero_grad()
    before = vae.elbo_terms(x.expand(2, -1, -1), torch.Generator().manual_seed(1))["elbo"].mean(1)
    train_stacked(
        vae,
        lambda: x.expand(2, -1, -1),
        steps=30,
        lr=3e-3,
        labels=["F", "LV"],
        log_every=10,
        generator=gen,
    )
    after = vae.elbo_terms(x.expand(2, -1, -1), torch.Generator().manual_seed(1))["elbo"].mean(1)
    assert torch.all(after > before)
