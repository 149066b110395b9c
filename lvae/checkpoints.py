"""Training checkpoints that cannot run code and cannot be silently corrupted.

A checkpoint file is one header line and a ``torch.save`` payload::

    LVAE-CHECKPOINT 1 sha256=<64 hex digits> bytes=<payload length>\\n<payload>

* The payload is read with ``torch.load(..., weights_only=True)``: it may hold tensors,
  numbers, strings, lists, tuples and dicts (a model's and Adam's state dicts, a
  generator's state, the history), nothing whose unpickling could run code.
* The SHA-256 of the payload is checked before it is unpickled, so a truncated, empty,
  garbage or bit-flipped file is told apart from a good one.
* The file is written atomically (``store.write_bytes_atomically``): a crash or a full
  disk leaves the previous checkpoint as it was.

A checkpoint that fails any check stops the run with ``BadCheckpoint`` (naming the file,
what is wrong and the two ways on) unless discarding was asked for explicitly
(``discarding_bad_checkpoints(True)``, the command line's ``--discard-bad-checkpoints``):
then the file is deleted with a printed line and that phase starts again.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import pickle
import re
import sys
from pathlib import Path

import torch

from .store import write_bytes_atomically

MAGIC = b"LVAE-CHECKPOINT 1 "
_HEADER = re.compile(rb"LVAE-CHECKPOINT 1 sha256=([0-9a-f]{64}) bytes=([0-9]+)\n")
_HEADER_MAX = 128  # the header line is shorter than this

_DISCARD: contextvars.ContextVar[bool] = contextvars.ContextVar("discard_bad", default=False)


class BadCheckpoint(ValueError):
    """A checkpoint that cannot be trusted: unreadable, corrupted, or holding objects a
    weights-only load refuses. A ValueError, so the command line prints it without a
    traceback."""

    def __init__(self, path: Path, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(
            f"checkpoint {path} {problem}. Either discard it and train that phase again "
            "from its start (run the same command with --discard-bad-checkpoints, or "
            "discard_bad_checkpoints=True in Python), or restore a good copy of the file "
            "and run the same command again."
        )


@contextlib.contextmanager
def discarding_bad_checkpoints(enabled: bool = True):
    """Inside this block a bad checkpoint is deleted (with a printed line) and its phase
    restarts, instead of stopping the run."""
    token = _DISCARD.set(bool(enabled))
    try:
        yield
    finally:
        _DISCARD.reset(token)


def encode(state: dict) -> bytes:
    """The checkpoint file's bytes: header (payload's SHA-256 and length), then payload."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest()
    return MAGIC + f"sha256={digest} bytes={len(payload)}\n".encode() + payload


def decode(path: Path, data: bytes) -> dict:
    """The state held in ``data`` (the bytes of the file ``path``); BadCheckpoint if the
    header, length or checksum is wrong, or the payload is not weights-only loadable."""
    if not data:
        raise BadCheckpoint(path, "is empty")
    header = _HEADER.match(data[:_HEADER_MAX])
    if header is None:
        what = "was written by an older lvae" if data[:2] == b"PK" else "has no lvae header"
        raise BadCheckpoint(path, f"is not a checksummed lvae checkpoint ({what})")
    payload = data[header.end() :]
    expected = int(header.group(2))
    if len(payload) != expected:
        raise BadCheckpoint(
            path, f"is truncated or padded: {len(payload)} payload bytes, expected {expected}"
        )
    if hashlib.sha256(payload).hexdigest() != header.group(1).decode():
        raise BadCheckpoint(path, "is corrupted: its content does not match its checksum")
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # weights_only refuses anything that could run code
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadCheckpoint(path, f"holds objects a weights-only load refuses ({first})") from None
    except Exception as exc:  # noqa: BLE001 - any other failure to read is the same answer
        raise BadCheckpoint(path, f"cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict):
        raise BadCheckpoint(path, f"holds a {type(state).__name__}, not a checkpoint's dict")
    return state


def save_checkpoint(path: Path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically, with its checksum (``store.DiskFull`` if the
    disk fills: the previous checkpoint is then left intact)."""
    write_bytes_atomically(Path(path), encode(state))


def load_checkpoint(path: Path) -> dict | None:
    """The state saved at ``path``; None if there is none, or if it was bad and
    discarding is on (the file is then deleted, with a printed line). Otherwise a bad
    checkpoint raises ``BadCheckpoint``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadCheckpoint(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        return decode(path, data)
    except BadCheckpoint as bad:
        if not _DISCARD.get():
            raise
        path.unlink(missing_ok=True)
        print(
            f"[lvae] discarded bad checkpoint {path} ({bad.problem}); that phase starts again",
            file=sys.stderr,
            flush=True,
        )
        return None
