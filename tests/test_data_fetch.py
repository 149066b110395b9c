"""Fetching and checking the image datasets: checksums, a local HTTP server, Olivetti."""

import dataclasses
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_DATA

from lvae import cli_data, downloads, images

PAYLOAD = b"an IDX archive stand-in\n" * 100


@pytest.fixture
def server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "file.gz").write_bytes(PAYLOAD)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def stand_in(sha256=None):
    digest = sha256 or hashlib.sha256(PAYLOAD).hexdigest()
    return downloads.DataFile("mnist", "mnist/file.gz", len(PAYLOAD), digest)


def test_a_download_with_the_right_checksum_lands_in_place(tmp_path, server):
    path = downloads.download(
        stand_in(), tmp_path / "data", mirrors=("http://127.0.0.1:9/", server)
    )
    assert path == tmp_path / "data" / "mnist" / "file.gz" and path.read_bytes() == PAYLOAD
    assert downloads.check_file(stand_in(), tmp_path / "data", full=True) == "ok"
    assert not list(path.parent.glob("*.part"))


def test_a_wrong_checksum_names_both_sums_and_leaves_nothing(tmp_path, server):
    wrong = stand_in("0" * 64)
    with pytest.raises(ValueError) as err:
        downloads.download(wrong, tmp_path / "data", mirrors=(server,))
    actual = hashlib.sha256(PAYLOAD).hexdigest()
    assert f"sha256 {actual}, expected {'0' * 64}; nothing was kept" in str(err.value)
    assert list((tmp_path / "data" / "mnist").iterdir()) == []


def test_no_mirror_answering_names_the_mirrors(tmp_path):
    with pytest.raises(OSError, match="could not download file.gz: http://127.0.0.1:9/"):
        downloads.download(stand_in(), tmp_path, mirrors=("http://127.0.0.1:9/",), timeout=5)


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
    downloads.fetch("mnist", data, mirrors=(server,))
    assert seen == ["mnist/other.gz"]
    assert (data / "mnist" / "other.gz").read_bytes() == PAYLOAD
    with pytest.raises(ValueError, match="dataset must be one of \\('mnist', 'olivetti'\\)"):
        downloads.fetch("celeba", data)


def test_check_reports_missing_corrupt_and_ok(tmp_path, capsys):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"short")
    parser = __import__("lvae.__main__", fromlist=["build_parser"]).build_parser()
    assert cli_data.run_data(parser.parse_args(["data", "check", "--data-dir", str(tmp_path)])) == 0
    out = capsys.readouterr().out
    assert "mnist/train-images-idx3-ubyte.gz     missing" in out
    assert "mnist/t10k-labels-idx1-ubyte.gz      corrupt: 5 bytes, expected 4,542" in out
    assert "missing (scikit-learn's copy is used instead)" in out
    assert f"python -m lvae data fetch mnist --data-dir {tmp_path}" in out


@pytest.mark.skipif(
    not (SHARED_DATA / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file(),
    reason=f"mnist/t10k-labels-idx1-ubyte.gz not found in {SHARED_DATA} (set LVAE_DATA_DIR)",
)
def test_the_published_test_set_sums_match_the_real_files():
    for key in ("test-images", "test-labels"):
        assert downloads.check_file(downloads.MNIST[key], SHARED_DATA, full=True) == "ok"


@pytest.mark.skipif(
    not (SHARED_DATA / downloads.OLIVETTI_FILE).is_file(),
    reason=f"{downloads.OLIVETTI_FILE} not found in {SHARED_DATA} (set LVAE_DATA_DIR)",
)
def test_scikit_learn_olivetti_gives_our_pixels(tmp_path, monkeypatch):
    """scikit-learn's own conversion, run on the real file, matches our .mat reader."""
    import sklearn.datasets._olivetti_faces as sk

    source = SHARED_DATA / downloads.OLIVETTI_FILE

    def local_copy(remote, dirname, **kwargs):  # instead of downloading the same file
        return shutil.copy(source, Path(dirname) / remote.filename)

    monkeypatch.setattr(sk, "_fetch_remote", local_copy)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sk"))
    via_sklearn = images.olivetti_from_sklearn()
    ours = images._olivetti_mat(source)
    np.testing.assert_array_equal(via_sklearn, ours)
    assert ours.max() * 255 == images.OLIVETTI_MAX and ours.min() == 0


def test_olivetti_offline_says_how_to_get_it(tmp_path):
    # conftest makes scikit-learn's download fail as it does offline.
    with pytest.raises(FileNotFoundError) as err:
        images.load_images("olivetti", tmp_path)
    message = str(err.value)
    assert "no olivetti/olivettifaces.mat" in message and "disabled in the tests" in message
    assert "python -m lvae data fetch olivetti" in message
