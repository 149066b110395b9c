"""The verdict scale (``lvae.analysis.scale``) on constructed effects with known answers."""

import pytest

from lvae.analysis import scale, stats


@pytest.mark.parametrize(
    ("registered", "diff", "low", "high", "paper", "word", "excludes"),
    [
        (stats.HOLDS, 0.40, 0.30, 0.50, 0.36, scale.REPRODUCED, False),
        (stats.HOLDS, 0.25, 0.20, 0.30, 0.49, scale.WEAKER, True),
        (stats.HOLDS, 0.90, 0.80, 1.00, 0.49, scale.STRONGER, True),
        # A negative paper effect (T4) is read in its own direction.
        (stats.HOLDS, -0.20, -0.25, -0.15, -0.44, scale.WEAKER, True),
        (stats.HOLDS, -0.50, -0.60, -0.40, -0.44, scale.REPRODUCED, False),
        (stats.HOLDS, -0.90, -1.00, -0.80, -0.44, scale.STRONGER, True),
        (stats.NOT_SHOWN, 0.04, -0.05, 0.12, 0.93, scale.NOT_SHOWN, True),
        (stats.NOT_SHOWN, 0.30, -0.05, 1.10, 0.93, scale.NOT_SHOWN, False),
        (stats.CONTRADICTED, -0.30, -0.40, -0.20, 0.36, scale.CONTRADICTED, True),
    ],
)
def test_each_word_of_the_scale(registered, diff, low, high, paper, word, excludes):
    scaled = scale.on_scale(registered, diff, low, high, paper)
    assert scaled.word == word and scaled.excludes_paper is excludes
    assert scaled.fraction == pytest.approx(diff / paper)


def test_the_interval_end_that_touches_the_paper_counts_as_reaching_it():
    assert scale.on_scale(stats.HOLDS, 0.3, 0.2, 0.49, 0.49).word == scale.REPRODUCED
    assert scale.on_scale(stats.HOLDS, 0.3, 0.2, 0.4899, 0.49).word == scale.WEAKER


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("holds!", 0.1, 0.0, 0.2, 0.3), "registered must be"),
        ((stats.HOLDS, 0.5, 0.0, 0.2, 0.3), "outside its interval"),
        ((stats.HOLDS, 0.1, 0.0, 0.2, 0.0), "nonzero"),
    ],
)
def test_bad_input_is_refused_with_the_reason(args, message):
    with pytest.raises(ValueError, match=message):
        scale.on_scale(*args)


def test_one_answer_across_latents():
    assert scale.across({1: "weaker", 2: "weaker", 4: "weaker"}) == ("weaker", {})
    word, each = scale.across({4: "not shown", 1: "weaker", 2: "weaker"})
    assert word == scale.DEPENDS and list(each) == [1, 2, 4] and each[4] == "not shown"
    with pytest.raises(ValueError, match="at least one"):
        scale.across({})
