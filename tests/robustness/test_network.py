"""Download errors name their real cause: each kind is produced for real, offline, by a server on 127.0.0.1.

- an HTTP server answering 403 / 404 / 429 / 503 (the service refused: not the learner's network);
- a TLS server with a self-signed certificate (a genuine CERTIFICATE_VERIFY_FAILED from Python's ssl);
- a closed port (no answer at all: "without internet").

The errors come from the real code paths: urllib, ``tensorflow_hub.load``, ``keras.utils.get_file`` (through
``keras.applications``) and TensorFlow Datasets' downloader (``requests``).
"""

from __future__ import annotations

import http.server
import socket
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers._internal import network

HUB_HANDLE = "https://tfhub.dev/google/efficientnet/b0/feature-vector/1"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers ``/<status>/...`` with that status (``/200/...``: a small body); records every path it was asked."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        first = self.path.strip("/").split("/")[0].split("?")[0]
        status = int(first) if first.isdigit() else 200
        if status == 200:
            body = b"not a tarball"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(status)

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass


def _serve(server: http.server.ThreadingHTTPServer) -> Iterator[http.server.ThreadingHTTPServer]:
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to 127.0.0.1 go straight there, whatever proxy the machine is configured with."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def server() -> Iterator[http.server.ThreadingHTTPServer]:
    """A real HTTP server on 127.0.0.1 (see :class:`_Handler`)."""
    yield from _serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler))


@pytest.fixture(scope="module")
def base(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def tls_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real HTTPS server on 127.0.0.1 whose certificate is self-signed, so no client can verify it."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    for _ in _serve(httpd):
        yield f"https://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture
def closed_base() -> str:
    """An address on 127.0.0.1 where nothing listens: every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _urlopen_error(url: str) -> BaseException:
    with pytest.raises(urllib.error.URLError) as info:
        urllib.request.urlopen(url, timeout=10)
    return info.value


# ------------------------------------------------------------------ explain / explained on real urllib errors


@pytest.mark.parametrize(("status", "reason"), [(403, "Forbidden"), (404, "Not Found"), (429, "Too Many Requests"),
                                                (503, "Service Unavailable")])  # fmt: skip
def test_hub_http_errors_name_the_status_and_the_workarounds(base, status, reason):
    err = _urlopen_error(f"{base}/{status}/model")
    assert isinstance(err, urllib.error.HTTPError)
    message = network.explain(err, HUB_HANDLE, "the TF Hub model")
    assert message.startswith(f"The model hub answered HTTP {status} {reason} for the TF Hub model ({HUB_HANDLE}).")
    assert "on the service's side, not your network" in message
    for workaround in ("#922", "#931", "#932", "#933", "wait", "TFHUB_CACHE_DIR", "Kaggle Models", ".tar.gz",
                       "extracted folder as the handle", "helpers.models.load_backbone(",
                       "keras.applications.EfficientNetB0(include_top=False)", "COURSE_BACKBONE"):  # fmt: skip
        assert workaround in message, workaround
    assert ("at least an hour" in message) == (status == 429)
    assert "tools.hub_cache seed" in message  # the offline route is still offered


@pytest.mark.parametrize("status", [403, 404, 429, 503])
def test_http_errors_from_other_hosts_say_the_server_refused(base, status):
    url = f"{base}/{status}/data.zip"
    message = network.explain(_urlopen_error(url), url, "the data")
    assert message.startswith(f"127.0.0.1:{base.rsplit(':', 1)[1]} answered HTTP {status} ")
    assert "the server refused the request" in message and "Kaggle" not in message


def test_explained_reraises_connection_error_from_the_original(base):
    with pytest.raises(ConnectionError, match="HTTP 403 Forbidden") as info:
        with network.explained(HUB_HANDLE, "the TF Hub model"):
            urllib.request.urlopen(f"{base}/403/model", timeout=10)
    assert isinstance(info.value.__cause__, urllib.error.HTTPError) and info.value.__cause__.code == 403


def test_wrapped_and_reworded_errors_are_found(base, tmp_path):
    http_error = _urlopen_error(f"{base}/429/model")
    try:
        raise RuntimeError("the resolver failed") from http_error  # how TensorFlow wraps an error
    except RuntimeError as wrapped:
        assert network.classify(wrapped)[:2] == ("http", 429)
    assert network.classify(Exception(str(http_error)))[:3] == ("http", 429, "Too Many Requests")  # text only
    import keras

    with pytest.raises(Exception, match="URL fetch failure") as info:  # Keras words it its own way
        keras.utils.get_file("w.h5", f"{base}/403/w.h5", cache_dir=str(tmp_path))
    assert network.classify(info.value)[:3] == ("http", 403, "Forbidden")
    assert network.classify(Exception("URL fetch failure on https://x/w.h5: 403 -- Forbidden"))[:2] == ("http", 403)


def test_certificate_failure_is_not_called_an_outage(tls_base):
    err = _urlopen_error(f"{tls_base}/200/model")
    assert "CERTIFICATE_VERIFY_FAILED" in str(err) and isinstance(err.reason, ssl.SSLCertVerificationError)
    message = network.explain(err, HUB_HANDLE, "the TF Hub model")
    assert message.startswith("The secure connection to tfhub.dev for the TF Hub model failed its certificate check")
    for advice in ("not a network outage", '"/Applications/Python 3.x/Install Certificates.command"',
                   "export SSL_CERT_FILE=$(python -m certifi)", "company proxy", "CA bundle"):  # fmt: skip
        assert advice in message, advice
    assert network.classify(Exception(f"URL fetch failure on x: None -- {err.reason}")).kind == "certificate"


def test_no_answer_is_no_network(closed_base):
    err = _urlopen_error(f"{closed_base}/model")
    assert not isinstance(err, urllib.error.HTTPError)
    message = network.explain(err, HUB_HANDLE, "the TF Hub model")
    assert message.startswith(f"Could not download the TF Hub model from {HUB_HANDLE} (URLError: ")
    assert "Without internet, build it from the Keras cache: python -m tools.hub_cache seed" in message
    dns = urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))  # what a DNS failure raises
    assert network.classify(dns).kind == "offline"
    assert "Check your connection" in network.explain(dns, "https://example.org/x", "x")


def test_other_errors_pass_through_unchanged():
    with pytest.raises(ValueError, match="^not a SavedModel$"):
        with network.explained(HUB_HANDLE, "the TF Hub model"):
            raise ValueError("not a SavedModel")
    with pytest.raises(FileNotFoundError):
        with network.explained(HUB_HANDLE, "the TF Hub model"):
            raise FileNotFoundError(2, "No such file or directory", "/nope")


# ------------------------------------------------------------------ HubFeatureExtractor through hub.load


@pytest.fixture
def hub_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub"))
    monkeypatch.delenv("TFHUB_MODEL_LOAD_FORMAT", raising=False)
    return tmp_path / "tfhub"


@pytest.mark.parametrize(("status", "reason"), [(403, "Forbidden"), (429, "Too Many Requests")])
def test_hub_feature_extractor_names_a_refusal(server, base, hub_cache_dir, status, reason):
    from helpers.models import HubFeatureExtractor

    handle = f"{base}/{status}/model"
    with pytest.raises(ConnectionError) as info:
        HubFeatureExtractor(handle)
    message = str(info.value)
    assert message.startswith(f"The model hub answered HTTP {status} {reason} for the TF Hub module ({handle}).")
    assert "not your network" in message and "Without internet" not in message
    assert isinstance(info.value.__cause__, urllib.error.HTTPError)
    # the request came from tensorflow_hub's own resolver, which asks for the compressed SavedModel
    assert f"/{status}/model?tf-hub-format=compressed" in server.paths


def test_hub_feature_extractor_names_a_certificate_failure(tls_base, hub_cache_dir):
    from helpers.models import HubFeatureExtractor

    with pytest.raises(ConnectionError, match="failed its certificate check") as info:
        HubFeatureExtractor(f"{tls_base}/200/model")
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value) and "SSL_CERT_FILE" in str(info.value)


def test_hub_feature_extractor_without_network_offers_the_offline_route(closed_base, hub_cache_dir):
    from helpers.models import HubFeatureExtractor

    with pytest.raises(ConnectionError, match="Without internet, build it from the Keras cache") as info:
        HubFeatureExtractor(f"{closed_base}/model")
    assert str(info.value).startswith("Could not download the TF Hub module from http://127.0.0.1:")


def test_hub_feature_extractor_keeps_a_local_error_its_own(tmp_path, hub_cache_dir):
    from helpers.models import HubFeatureExtractor

    folder = tmp_path / "not_a_savedmodel"
    folder.mkdir()
    (folder / "notes.txt").write_text("no saved_model.pb here")
    with pytest.raises(ValueError, match="saved_model.pb") as info:
        HubFeatureExtractor(str(folder))
    assert not isinstance(info.value, ConnectionError)


# ------------------------------------------------------------------ keras.applications weights (load_backbone)


@pytest.fixture
def weights_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point MobileNetV2's weight downloads at ``base`` and give Keras an empty cache, so it must download."""
    from keras.src.applications import mobilenet_v2
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras"))

    def point(base: str) -> None:
        monkeypatch.setattr(mobilenet_v2, "BASE_WEIGHT_PATH", f"{base}/")

    return point


def test_load_backbone_names_a_refusal(base, weights_from):
    from helpers.models import load_backbone

    weights_from(f"{base}/403")
    with pytest.raises(ConnectionError) as info:
        load_backbone("mobilenet_v2_035", (96, 96, 3))
    message = str(info.value)
    assert message.startswith(f"127.0.0.1:{base.rsplit(':', 1)[1]} answered HTTP 403 Forbidden for the ImageNet "
                              f"weights of MobileNetV2 ({base}/403/mobilenet_v2_weights")  # fmt: skip
    assert "the server refused the request" in message and "put the weight file in the Keras cache" in message


def test_load_backbone_names_a_certificate_failure(tls_base, weights_from):
    from helpers.models import load_backbone

    weights_from(tls_base)
    with pytest.raises(ConnectionError, match="failed its certificate check") as info:
        load_backbone("mobilenet_v2_035", (96, 96, 3))
    assert "Install Certificates.command" in str(info.value)


def test_load_backbone_without_network_keeps_the_keras_cache_hint(closed_base, weights_from):
    from helpers.models import load_backbone

    weights_from(closed_base)
    with pytest.raises(ConnectionError, match="Without internet, put the weight file in the Keras cache") as info:
        load_backbone("mobilenet_v2_035", (96, 96, 3))
    assert str(info.value).startswith("Could not download the ImageNet weights of MobileNetV2 from ")


# ------------------------------------------------------------------ cats_vs_dogs (TensorFlow Datasets)


@pytest.fixture
def tfds_downloads_from(monkeypatch: pytest.MonkeyPatch):
    """Make ``tfds.load`` fail as its downloader does when it fetches ``url``: the real ``requests`` code."""
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.download import downloader

    monkeypatch.setattr(downloader, "MAX_RETRIES", 0)  # tfds retries 10 times with back-off

    def point(url: str) -> None:
        def load(*args, **kwargs):
            with downloader._open_url(url, timeout=10):
                raise AssertionError(f"{url} should have failed")

        monkeypatch.setattr(tfds, "load", load)

    return point


def _cats_vs_dogs_error() -> str:
    from helpers.data import load_cats_vs_dogs

    with pytest.raises(ConnectionError) as info:
        load_cats_vs_dogs()
    message = str(info.value)
    assert message.startswith("TensorFlow Datasets could not download cats_vs_dogs, an archive of about 787 MiB "
                              "from download.microsoft.com (that download broke in 2022")  # fmt: skip
    assert "COURSE_DATA_DIR" in message and "train/<class>/ and test/<class>/" in message
    assert "two_class_data()" in message and "image_folders(" in message
    return message


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (503, "Service Unavailable")])
def test_cats_vs_dogs_refused(base, tfds_downloads_from, status, reason):
    tfds_downloads_from(f"{base}/{status}/kagglecatsanddogs_5340.zip")
    message = _cats_vs_dogs_error()
    assert f"download.microsoft.com answered HTTP {status} {reason} for the cats_vs_dogs archive" in message


def test_cats_vs_dogs_certificate_failure(tls_base, tfds_downloads_from):
    tfds_downloads_from(f"{tls_base}/200/kagglecatsanddogs_5340.zip")
    assert "failed its certificate check" in _cats_vs_dogs_error()


def test_cats_vs_dogs_without_network(closed_base, tfds_downloads_from):
    tfds_downloads_from(f"{closed_base}/kagglecatsanddogs_5340.zip")
    assert "Without internet, use any two-class image folder instead" in _cats_vs_dogs_error()


def test_cats_vs_dogs_checksum_mismatch_and_other_errors(monkeypatch):
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.download.download_manager import NonMatchingChecksumError

    from helpers.data import load_cats_vs_dogs

    def mismatch(*args, **kwargs):
        raise NonMatchingChecksumError("Artifact https://download.microsoft.com/... has wrong checksum")

    monkeypatch.setattr(tfds, "load", mismatch)
    assert "(NonMatchingChecksumError: Artifact" in _cats_vs_dogs_error()

    def bad_split(*args, **kwargs):
        raise ValueError("Unknown split 'trian'")

    monkeypatch.setattr(tfds, "load", bad_split)
    with pytest.raises(ValueError, match="Unknown split"):
        load_cats_vs_dogs()


# --- the course's own archive downloads (helpers._internal.downloads) -------------------------------------


@pytest.mark.parametrize("status", [403, 404, 503])
def test_an_archive_download_the_server_refuses_names_the_status_not_the_network(base, tmp_path, status):
    from helpers._internal.downloads import download_file

    with pytest.raises(ConnectionError) as err:
        download_file(f"{base}/{status}/food.zip", tmp_path / "food.zip", progress=False)
    message = str(err.value)
    assert f"answered HTTP {status}" in message and "the server refused the request" in message
    assert "Without internet" not in message and "Nothing was kept." in message
    assert not list(tmp_path.iterdir()), "nothing is left behind"


def test_an_archive_download_whose_certificate_fails_says_so(tls_base, tmp_path):
    from helpers._internal.downloads import download_file

    with pytest.raises(ConnectionError, match="failed its certificate check") as err:
        download_file(f"{tls_base}/200/food.zip", tmp_path / "food.zip", progress=False)
    assert "This is not a network outage" in str(err.value) and "SSL_CERT_FILE" in str(err.value)
    assert "Without internet" not in str(err.value)


def test_an_archive_download_without_network_keeps_the_offline_route(closed_base, tmp_path):
    from helpers._internal.downloads import download_file

    with pytest.raises(ConnectionError, match="Could not download .* Nothing was kept. Without internet"):
        download_file(f"{closed_base}/food.zip", tmp_path / "food.zip", progress=False)
