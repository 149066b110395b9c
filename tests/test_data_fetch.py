"""Fetching and checking the image datasets: checksums, a local HTTP server, Olivetti."""

import dataclasses
import gzip
import hashlib
import http.server
import os
import shutil
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_DATA, needs_data_file, needs_olivetti_mat

from lvae import __main__ as cli
from lvae import cli_data, downloads, images

PAYLOAD = b"an IDX archive stand-in\n" * 100


@pytest.fixture
def server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www; yields its base URL. Under
    /cut/ it promises the whole file (Content-Length) and sends half, then hangs up."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "file.gz").write_bytes(PAYLOAD)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def do_GET(self):
            if not self.path.startswith("/cut/"):
                return super().do_GET()
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def stand_in(sha256=None):
    digest = sha256 or hashlib.sha256(PAYLOAD).hexdigest()
    return downloads.DataFile("mnist", "mnist/file.gz", len(PAYLOAD), digest)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# ---------------------------------------------------------------------------- downloads
def test_a_download_with_the_right_checksum_lands_in_place(tmp_path, server):
    dead = "http://127.0.0.1:9/"  # nothing listens on port 9: the next mirror is tried
    path = downloads.download(stand_in(), tmp_path / "data", mirrors=(dead, server))
    assert path == tmp_path / "data" / "mnist" / "file.gz" and path.read_bytes() == PAYLOAD
    assert downloads.check_file(stand_in(), tmp_path / "data", full=True) == "ok"
    assert leftovers(path.parent) == ["file.gz"]  # no temporary file left beside it


def test_a_wrong_checksum_names_file_and_both_sums_and_leaves_nothing(tmp_path, server):
    wrong = stand_in("0" * 64)
    with pytest.raises(ValueError) as err:
        downloads.download(wrong, tmp_path / "data", mirrors=(server,))
    actual = hashlib.sha256(PAYLOAD).hexdigest()
    message = str(err.value)
    assert message.startswith(f"downloaded mnist/file.gz from {server}file.gz")
    assert f"sha256 {actual} (2,400 bytes), expected {'0' * 64}" in message
    assert message.endswith("nothing was kept")
    assert leftovers(tmp_path / "data" / "mnist") == []


def test_a_connection_cut_mid_file_leaves_nothing_and_tries_the_next_mirror(tmp_path, server):
    data = tmp_path / "data"
    with pytest.raises(
        OSError,
        match=f"could not download file.gz: {server}cut/: connection closed after 1,200 of 2400",
    ):
        downloads.download(stand_in(), data, mirrors=(server + "cut/",))
    assert leftovers(data / "mnist") == []
    downloads.download(stand_in(), data, mirrors=(server + "cut/", server))
    assert leftovers(data / "mnist") == ["file.gz"]


def test_no_mirror_answering_names_the_mirrors(tmp_path):
    with pytest.raises(OSError, match="could not download file.gz: http://127.0.0.1:9/"):
        downloads.download(stand_in(), tmp_path, mirrors=("http://127.0.0.1:9/",), timeout=5)
    assert leftovers(tmp_path / "mnist") == []


def test_fetch_downloads_only_what_is_missing_or_wrong(tmp_path, server, monkeypatch):
    files = {"a": stand_in(), "b": dataclasses.replace(stand_in(), name="mnist/other.gz")}
    shutil.copy(tmp_path / "www" / "file.gz", tmp_path / "www" / "other.gz")
    monkeypatch.setattr(downloads, "MNIST", files)
    data = tmp_path / "data"
    (data / "mnist").mkdir(parents=True)
    (data / "mnist" / "file.gz").write_bytes(PAYLOAD)  # already right: not fetched again
    (data / "mnist" / "other.gz").write_bytes(b"x" * len(PAYLOAD))  # right size, wrong bytes
    seen = []
    real = downloads.download
    monkeypatch.setattr(downloads, "download", lambda f, d, m: seen.append(f.name) or real(f, d, m))
    assert downloads.fetch("mnist", data, mirrors=(server,)) == [
        data / "mnist" / "file.gz",
        data / "mnist" / "other.gz",
    ]
    assert seen == ["mnist/other.gz"]
    assert (data / "mnist" / "other.gz").read_bytes() == PAYLOAD
    with pytest.raises(ValueError, match="dataset must be one of \\('mnist', 'olivetti'\\)"):
        downloads.fetch("celeba", data)


def test_mnist_loader_downloads_a_missing_file_and_verifies_it(tmp_path, server, monkeypatch):
    """load_images fetches a missing archive through the same checked download."""
    levels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    archive = gzip.compress(struct.pack(">IIII", 0x803, 2, 3, 3) + levels.tobytes())
    (tmp_path / "www" / "t10k-images-idx3-ubyte.gz").write_bytes(archive)
    file = downloads.DataFile(
        "mnist",
        "mnist/t10k-images-idx3-ubyte.gz",
        len(archive),
        hashlib.sha256(archive).hexdigest(),
    )
    monkeypatch.setitem(downloads.MNIST, "test-images", file)
    monkeypatch.setattr(downloads, "MNIST_MIRRORS", (server,))
    monkeypatch.setattr(downloads.download, "__defaults__", ((server,), 30))
    x = images.load_images("mnist", tmp_path / "data", split="test")
    np.testing.assert_allclose(x[:, 0].numpy() * 255, levels, atol=1e-4)


# ------------------------------------------------------------------------------- errors
def test_missing_mnist_names_file_checksum_and_command(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "MNIST_MIRRORS", ("http://127.0.0.1:9/",))
    monkeypatch.setattr(downloads.download, "__defaults__", (("http://127.0.0.1:9/",), 5))
    with pytest.raises(FileNotFoundError) as err:
        images.load_images("mnist", tmp_path, split="train")
    message = str(err.value)
    assert message.startswith(
        f"MNIST file mnist/train-images-idx3-ubyte.gz not found in {tmp_path} (sha256 "
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609); downloading it "
        "failed (could not download train-images-idx3-ubyte.gz: http://127.0.0.1:9/"
    )
    assert f"Fetch it with: python -m lvae data fetch mnist --data-dir {tmp_path} (needs" in message
    assert "pass --data-dir / set LVAE_DATA_DIR to a folder that has it." in message
    # Without any data folder: the same file and sum, and the folder to choose.
    monkeypatch.delenv("LVAE_DATA_DIR", raising=False)
    with pytest.raises(FileNotFoundError) as err:
        images.load_images("mnist", split="test")
    assert str(err.value) == (
        "MNIST file mnist/t10k-images-idx3-ubyte.gz needs a data folder (sha256 "
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6). Fetch it with: "
        "python -m lvae data fetch mnist --data-dir DIR (needs internet), then pass "
        "--data-dir DIR (or data_dir=DIR in Python) or set LVAE_DATA_DIR=DIR."
    )


def test_a_truncated_local_file_names_its_size_checksum_and_command(tmp_path):
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.parent.mkdir()
    path.write_bytes(b"\x1f\x8b" + bytes(10))
    with pytest.raises(ValueError) as err:
        downloads.require_file(downloads.MNIST["test-labels"], tmp_path)
    assert str(err.value) == (
        f"{path} is corrupt: 12 bytes, expected 4,542 (sha256 "
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6); delete it and run "
        f"python -m lvae data fetch mnist --data-dir {tmp_path}"
    )


def test_olivetti_offline_says_how_to_get_it(tmp_path):
    # conftest makes scikit-learn's download fail as it does offline.
    with pytest.raises(FileNotFoundError) as err:
        images.load_images("olivetti", tmp_path)
    message = str(err.value)
    assert message.startswith(f"OLIVETTI file olivetti/olivettifaces.mat not found in {tmp_path}")
    assert "(OSError: downloads are disabled in the tests)" in message
    assert "Fetch it with: python -m lvae data fetch olivetti (needs internet" in message
    assert f"olivettifaces.mat ({downloads.OLIVETTI_URL}) as DIR/olivetti/olivettifaces.mat" in (
        message
    )


# ------------------------------------------------------------------------ command line
def data_command(*argv):
    return cli.main(["data", *argv])


def test_check_lists_each_file_and_fails_on_a_corrupt_one(tmp_path, capsys):
    assert data_command("check", "--data-dir", str(tmp_path)) == 0  # all missing: not an error
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == [
        f"data folder: {tmp_path}",
        "  mnist/train-images-idx3-ubyte.gz  missing",
    ]
    assert "olivetti/olivettifaces.mat        missing; scikit-learn's copy is downloaded" in out
    assert "digits                            bundled with scikit-learn, no file" in out
    assert f"get MNIST with: python -m lvae data fetch mnist --data-dir {tmp_path}" in out

    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"short")
    (tmp_path / "olivetti").mkdir()
    (tmp_path / "olivetti" / "olivettifaces.mat").write_bytes(b"not a MATLAB file")
    assert data_command("check", "--data-dir", str(tmp_path)) == 1
    out = capsys.readouterr().out
    assert "mnist/t10k-labels-idx1-ubyte.gz   corrupt: 5 bytes, expected 4,542" in out
    assert "olivetti/olivettifaces.mat        corrupt: not a MATLAB file" in out
    assert (
        "corrupt: mnist/t10k-labels-idx1-ubyte.gz, olivetti/olivettifaces.mat; "
        "delete and fetch again"
    ) in out


@needs_data_file(*(f.name for f in downloads.MNIST.values() if f.name.startswith("mnist/t10k")))
def test_check_verifies_the_real_test_files(capsys, tmp_path):
    shutil.copytree(SHARED_DATA / "mnist", tmp_path / "mnist")
    assert data_command("check", "--data-dir", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "mnist/t10k-images-idx3-ubyte.gz   ok (size and sha256 verified)" in out
    assert "mnist/t10k-labels-idx1-ubyte.gz   ok (size and sha256 verified)" in out
    # The published sums are those of the canonical files (whose MD5s are well known).
    md5 = {
        "test-images": "9fb629c4189551a2d022fa330f9573f3",
        "test-labels": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    for key, digest in md5.items():
        path = downloads.MNIST[key].path(tmp_path)
        assert hashlib.md5(path.read_bytes()).hexdigest() == digest


def test_fetch_refuses_a_file_as_data_folder_and_mnist_without_a_folder(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match=f"--data-dir {tmp_path / 'f'} is not a folder"):
        cli_data.run_data(cli.build_parser().parse_args(["data", "fetch", "mnist", "--data-dir",
                                                         str(tmp_path / "f")]))  # fmt: skip
    with pytest.raises(ValueError, match="fetching mnist needs a data folder"):
        downloads.fetch("mnist", None)


def test_the_data_command_does_not_import_torch():
    code = (
        "import sys; from lvae.__main__ import main; "
        "rc = main(['data', 'check', '--data-dir', 'no-such-folder']); "
        "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "mnist/train-images-idx3-ubyte.gz  missing" in done.stdout


# ----------------------------------------------------------------------------- Olivetti
@needs_olivetti_mat
def test_scikit_learn_olivetti_gives_our_pixels(tmp_path, monkeypatch):
    """scikit-learn's own conversion (min-max scaling, transpose), run on the real file,
    gives our .mat reader's pixels exactly once mapped back to level / 255."""
    import sklearn.datasets._olivetti_faces as sk

    source = SHARED_DATA / downloads.OLIVETTI_FILE

    def local_copy(remote, dirname, **kwargs):  # instead of downloading the same matrix
        return shutil.copy(source, Path(dirname) / remote.filename)

    monkeypatch.setattr(sk, "_fetch_remote", local_copy)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sk"))
    raw = sk.fetch_olivetti_faces().images
    ours = images._olivetti_mat(source)  # (400, 64, 64), level / 255
    # scikit-learn's scale is level / 242 (the faces' range is 0..242), ours level / 255.
    assert ours.min() == 0 and ours.max() * 255 == downloads.OLIVETTI_MAX
    np.testing.assert_allclose(raw * downloads.OLIVETTI_MAX / 255, ours, atol=1e-6)
    via_sklearn = images.olivetti_from_sklearn()  # now read from the cache it just made
    assert via_sklearn.dtype == np.float32
    np.testing.assert_array_equal(via_sklearn, ours)
    assert downloads.check_olivetti(tmp_path).startswith("missing; scikit-learn's cached copy")
    # The loader without the .mat file: the same train and test images as with it.
    for split in ("train", "test"):
        np.testing.assert_array_equal(
            images.load_images("olivetti", tmp_path, split=split).numpy(),
            images.load_images("olivetti", SHARED_DATA, split=split).numpy(),
        )


def test_a_scikit_learn_copy_on_another_scale_is_refused(monkeypatch):
    import sklearn.datasets
    from sklearn.utils import Bunch

    faces = np.random.default_rng(0).random((400, 64, 64), dtype=np.float32)  # not level/242
    monkeypatch.setattr(sklearn.datasets, "fetch_olivetti_faces", lambda **kw: Bunch(images=faces))
    with pytest.raises(ValueError, match="not the 400 64x64 faces with grey levels 0..242"):
        downloads.olivetti_via_sklearn()


@needs_olivetti_mat
def test_fetch_olivetti_with_the_mat_file_present_downloads_nothing(tmp_path, capsys):
    (tmp_path / "olivetti").mkdir()
    shutil.copy(SHARED_DATA / downloads.OLIVETTI_FILE, tmp_path / "olivetti")
    # scikit-learn's download is disabled (conftest): this passes only if it is not tried.
    assert data_command("fetch", "olivetti", "--data-dir", str(tmp_path)) == 0
    assert capsys.readouterr().out == (
        f"olivetti: ready in {tmp_path}; use it with --data-dir {tmp_path}\n"
    )


def test_fetch_without_network_says_so_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(downloads, "MNIST_MIRRORS", ("http://127.0.0.1:9/",))
    monkeypatch.setattr(downloads.fetch, "__defaults__", (("http://127.0.0.1:9/",),))
    assert data_command("fetch", "mnist", "--data-dir", str(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: could not download train-images-idx3-ubyte.gz: http://127.0.0.1")
    assert err.endswith("This command needs internet access.\n")
    assert not list((tmp_path / "mnist").iterdir())


# ------------------------------------------------------- local files hashed, preflight
DEAD = "http://127.0.0.1:9/"  # nothing listens there: a download fails at once


def fake_test_images(data_dir: Path, monkeypatch) -> tuple[Path, np.ndarray]:
    """A small valid archive in place of MNIST's test images, registered with its own sum."""
    levels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    archive = gzip.compress(struct.pack(">IIII", 0x803, 2, 3, 3) + levels.tobytes())
    path = data_dir / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(archive)
    digest = hashlib.sha256(archive).hexdigest()
    file = downloads.DataFile("mnist", "mnist/t10k-images-idx3-ubyte.gz", len(archive), digest)
    monkeypatch.setitem(downloads.MNIST, "test-images", file)
    monkeypatch.setattr(downloads.download, "__defaults__", ((DEAD,), 5))
    return path, levels


def test_a_damaged_local_file_of_the_right_size_is_caught_by_its_sum(tmp_path, monkeypatch):
    path, _ = fake_test_images(tmp_path, monkeypatch)
    damaged = bytearray(path.read_bytes())
    damaged[20] ^= 0xFF  # same size: only the sum tells (gzip alone would fail confusingly)
    path.write_bytes(bytes(damaged))
    expected = downloads.MNIST["test-images"].sha256
    with pytest.raises(ValueError) as err:
        images.load_images("mnist", tmp_path, split="test")
    assert str(err.value) == (
        f"{path} is corrupt: sha256 {hashlib.sha256(damaged).hexdigest()}, expected "
        f"{expected}; delete it and run python -m lvae data fetch mnist --data-dir {tmp_path}"
    )


def test_a_local_file_is_hashed_on_first_use_and_again_once_changed(tmp_path, monkeypatch):
    path, levels = fake_test_images(tmp_path, monkeypatch)
    calls = []
    real = downloads.sha256
    monkeypatch.setattr(downloads, "sha256", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        x = images.load_images("mnist", tmp_path, split="test")
    np.testing.assert_allclose(x[:, 0].numpy() * 255, levels, atol=1e-4)
    assert calls == [path]
    # Overwritten in place with other bytes of the same size: hashed again, and refused.
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 0xFF
    path.write_bytes(bytes(damaged))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ValueError, match="is corrupt: sha256"):
        images.load_images("mnist", tmp_path, split="test")
    assert calls == [path, path]


def test_require_dataset_checks_mnist_files_without_reading_them(tmp_path, monkeypatch):
    fake_test_images(tmp_path, monkeypatch)

    def unread(path):
        raise AssertionError(f"{path} was read")

    monkeypatch.setattr(images, "read_idx_images", unread)
    assert images.require_dataset("mnist", tmp_path, splits=("test",)) == tmp_path / "mnist"
    # Both splits by default: the training archive is missing, and cannot be downloaded.
    with pytest.raises(FileNotFoundError) as err:
        images.require_dataset("mnist", tmp_path, download=False)
    assert str(err.value) == downloads.missing_message(downloads.MNIST["train-images"], tmp_path)
    assert "python -m lvae data fetch mnist --data-dir" in str(err.value)


def test_require_dataset_refuses_bad_arguments_before_looking():
    with pytest.raises(ValueError, match="dataset must be one of .*, got 'cifar'"):
        images.require_dataset("cifar")
    with pytest.raises(ValueError) as err:
        images.require_dataset("mnist", splits=("valid",))
    assert str(err.value) == "splits for mnist must be among ('train', 'test'), got ('valid',)"
    with pytest.raises(ValueError, match="splits for digits must be among"):
        images.require_dataset("digits", splits=())


def test_require_dataset_for_digits_olivetti_and_celeba(tmp_path):
    assert (images.require_dataset("digits") / "digits.csv.gz").is_file()
    # Olivetti: no .mat and (conftest) no network.
    with pytest.raises(FileNotFoundError, match="OLIVETTI file olivetti/olivettifaces.mat not"):
        images.require_dataset("olivetti", tmp_path)
    mat = tmp_path / downloads.OLIVETTI_FILE
    mat.parent.mkdir()
    mat.write_bytes(b"not a MATLAB file")
    with pytest.raises(ValueError, match=f"{mat} is corrupt: not a MATLAB file"):
        images.require_dataset("olivetti", tmp_path)
    # CelebA: the folder, an image in it, and the partition file unless only 'all' is read.
    folder = tmp_path / "celeba" / "img_align_celeba"
    with pytest.raises(FileNotFoundError, match=f"missing file {folder}: put CelebA"):
        images.require_dataset("celeba", tmp_path, splits=("all",))
    folder.mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"no CelebA images \(\*\.jpg\) in"):
        images.require_dataset("celeba", tmp_path, splits=("all",))
    (folder / "000001.jpg").write_bytes(b"")
    assert images.require_dataset("celeba", tmp_path, splits=("all",)) == tmp_path / "celeba"
    with pytest.raises(FileNotFoundError, match="list_eval_partition.txt: splits"):
        images.require_dataset("celeba", tmp_path, splits=("train", "test"))


@needs_olivetti_mat
def test_require_dataset_accepts_the_real_olivetti_file():
    olivetti = SHARED_DATA / "olivetti"
    assert images.require_dataset("olivetti", SHARED_DATA, splits=("test",)) == olivetti
