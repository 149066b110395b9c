"""Command-line options that several commands share (``run``, ``bench``, ``fit``,
``sweep``). Torch-free."""

from __future__ import annotations

from .experiments import PRECISIONS


def add_precision_option(parser, where: str) -> None:
    """``--precision``, as ``run``, ``bench``, ``fit`` and ``sweep`` take it; ``where``: where the
    precision used is stated."""
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=None,
        help="training arithmetic: fp32 (TF32 off), tf32 (TF32 matmuls; CUDA only, fp32 on "
        "the CPU) or bf16 (bfloat16 autocast forward, float32 loss and Adam); default tf32 "
        f"on CUDA, fp32 on the CPU; {where}",
    )


def add_discard_option(parser) -> None:
    """``--discard-bad-checkpoints``, as ``run`` and ``sweep`` take it."""
    parser.add_argument(
        "--discard-bad-checkpoints",
        action="store_true",
        help="delete a checkpoint that fails its checksum or cannot be read (saying so) and "
        "train its phase again from the start; without it such a checkpoint stops the run",
    )


def add_allow_dirty_option(parser) -> None:
    """``--allow-dirty``, as ``run`` and ``sweep`` take it."""
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="make a book or paper record for the repository's results/ from uncommitted "
        "code (refused without it); the record's provenance then says so",
    )
