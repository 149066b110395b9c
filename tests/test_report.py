"""lvae.report: the book's one display convention for numbers and tables."""

import math

import pytest

from lvae import report


def test_fmt_rounds_to_significant_digits_as_a_number():
    assert report.fmt(0.00758929, 3) == 0.00759
    assert repr(report.fmt(0.00758929, 4)) == "0.007589"
    assert report.fmt(1.41421356, 4) == 1.414
    assert report.fmt(-0.00001, 1) == -1e-05
    assert repr(report.fmt(-1e-9, 2)) == "-1e-09"


def test_fmt_large_values_are_integers_and_zero_has_no_sign():
    assert report.fmt(1234.5, 3) == 1230 and isinstance(report.fmt(1234.5, 3), int)
    assert repr(report.fmt(-0.0001, 1)) == "-0.0001"
    assert repr(report.fmt(-0.0, 2)) == "0.0"
    assert math.isnan(report.fmt(float("nan")))


@pytest.mark.parametrize("digits", [0, 5, 2.0])
def test_fmt_refuses_more_than_four_digits(digits):
    with pytest.raises(ValueError, match="digits must be an integer from 1 to 4"):
        report.fmt(1.0, digits)


def test_sig_and_fixed():
    assert report.sig(14110.3) == "1.411e+04"
    assert report.sig(0.3926123) == "0.3926"
    assert report.sig(-0.0) == "0"
    assert report.fixed(-16.2234, 3) == "-16.22"
    assert report.fixed(0.0622, 4) == "0.0622"
    assert report.fixed(1.0, 4) == "1.000"
    assert report.fixed(9.99996, 4) == "10.00"
    assert report.fixed(0.00099, 3) == "0.001"  # rounds up to the shown decimal
    assert report.fixed(0.0996, 2) == "0.10"
    assert report.fixed(99.996, 3) == "100.0"
    assert report.fixed(-0.0001, 3) == "0.000"
    assert report.fixed(12345.6, 2) == "12346"
    assert report.pm(-2.0771, 0.00017) == "-2.077 ±\u00a00.000"


def test_below_states_a_tolerance_and_checks_it():
    assert report.below(3e-13, 1e-10) == 1e-10
    with pytest.raises(AssertionError, match="not below"):
        report.below(2e-10, 1e-10)
    assert report.decade_above(3e-13) == pytest.approx(1e-12)


def test_provenance_caption():
    prov = {
        "profile": "book",
        "seeds": list(range(10)),
        "steps": 60000,
        "device": "cpu",
        "git_commit": "cc8c15d05c81abcdef",
    }
    assert report.provenance(prov) == "profile book, 10 seeds (0–9), 60000 steps, device cpu"
    prov["seeds"] = [0, 1]
    assert "2 seeds (0, 1)" in report.provenance(prov, commit=True)
    assert report.provenance(prov, commit=True).endswith("commit cc8c15d05c81")


@pytest.mark.parametrize(
    ("token", "digits"),
    [
        ("0.00758929", 6),
        ("0.0075893", 5),
        ("-16.223", 5),
        ("1.000", 4),
        ("0.50000", 5),
        ("0.00000", 5),
        ("9.003890e-01", 7),
        ("1e-12", 1),
        ("4000", None),
        ("1.5e+04", 2),
    ],
)
def test_significant_digits(token, digits):
    assert report.significant_digits(token) == digits


def test_too_precise_catches_long_floats_and_skips_identifiers():
    assert report.too_precise("(r*)^2 = 0.00758929   law: 0.007589") == ["0.00758929"]
    assert report.too_precise("ELBO -16.223 ± 5.699.") == ["-16.223"]
    assert report.too_precise("1.41421356.") == ["1.41421356"]
    ok = (
        "profile book; seeds [0, 1, 2]; 240000 steps; torch 2.13.0+cpu; commit "
        "b2e00d34c410; 429758eaaa91; 1e-12; p = 4.1e-10; 2026-11-25; row12 T_t1_row0_col3"
    )
    assert report.too_precise(ok) == []
    html = '<style>#T_x td {width: 12.34567em}</style><td id="T_x_row0_col1">3.14159</td>'
    assert report.too_precise(html) == ["3.14159"]


def test_table_is_a_captioned_html_table_with_stable_ids():
    pytest.importorskip("pandas")
    t = report.table(
        [["LS", "0.096 ± 0.018"]], ["setting", "ELBO"], caption="Table 1. x", name="t1"
    )
    html = t.to_html()
    assert "<caption>Table 1. x</caption>" in html and "T_t1" in html
    assert (
        html
        == report.table(
            [["LS", "0.096 ± 0.018"]], ["setting", "ELBO"], caption="Table 1. x", name="t1"
        ).to_html()
    )
    with pytest.raises(ValueError, match="name"):
        report.table([[1]], ["a"], caption="c", name="bad name")


def test_made_with_names_scale_torch_commit_and_a_readable_wall_time():
    prov = {
        "profile": "book",
        "seeds": [0, 1, 2],
        "steps": 4000,
        "device": "cpu",
        "torch": "2.13.0+cpu",
        "git_commit": "0123456789abcdef",
        "wall_time_s": 95.4,
    }
    assert report.made_with(prov) == (
        "profile book, 3 seeds (0–2), 4000 steps, device cpu;\n"
        "torch 2.13.0+cpu; commit 0123456789ab; 95 s"
    )
    assert report.made_with({**prov, "wall_time_s": 3660.0}).endswith("; 61 min")
    # A resumed run: the sum over its sessions when each was timed, else the last one's.
    first = {"git_commit": "a", "precision": "fp32", "wall_time_s": 1800.0, "ended": "stopped"}
    last = {**first, "wall_time_s": 660.0, "ended": "completed"}
    resumed = {**prov, "wall_time_s": 660.0, "resumed": True, "sessions": [first, last]}
    assert report.made_with(resumed).endswith("; 41 min over 2 sessions")
    mixed = {**resumed, "sessions": [first, {**last, "precision": "bf16"}]}
    assert report.made_with(mixed).endswith("; 41 min over 2 sessions in fp32 then bf16")
    untimed = {**resumed, "sessions": [{**first, "wall_time_s": None}, last]}
    assert report.made_with(untimed).endswith("; 11 min (last session; resumed)")
    assert report.made_with({**resumed, "sessions": None}).endswith("(last session; resumed)")
    # The reproducibility page's minutes: all sessions, "+" where a time is missing.
    assert report.minutes(prov) == "1.6" and report.minutes(resumed) == "41.0"
    assert report.minutes(untimed) == "11.0+"
    assert report.minutes({**resumed, "sessions": None}) == "11.0+"


def test_short_commit_keeps_the_dirty_mark():
    from lvae.report import short_commit

    assert short_commit("0123456789abcdef") == "0123456789ab"
    assert short_commit("0123456789abcdef+dirty", 7) == "0123456+dirty"
    assert short_commit("unknown") == "unknown"
    prov = {"profile": "book", "seeds": [0, 1, 2], "steps": 5, "device": "cpu",
            "torch": "t", "git_commit": "abcdef0123456789+dirty", "wall_time_s": 1.0}  # fmt: skip
    assert "commit abcdef012345+dirty" in report.made_with(prov)
