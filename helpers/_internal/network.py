"""Download errors that name their real cause: the service refused, a certificate check failed, or no network.

A failed download reaches a notebook in many shapes: ``urllib.error.HTTPError`` from ``tensorflow_hub``'s
resolver, ``Exception('URL fetch failure on ...: 403 -- Forbidden')`` from Keras' ``get_file``, a
``requests`` error or ``DownloadError('... HTTP code: 404.')`` from TensorFlow Datasets, each possibly
wrapped in another exception. :func:`classify` looks through the whole chain (``__cause__``,
``__context__``, ``URLError.reason``, the message text) and sorts it into one of three kinds:

- ``"http"``: a server answered with an error status (403, 404, 429, 5xx, ...). The network works; the
  service refused. From the model hub (tfhub.dev, now served by Kaggle Models) the message lists the
  workarounds of tensorflow/hub issues #922, #931, #932 and #933.
- ``"certificate"``: the TLS certificate check failed. Not an outage either: Python lacks the certificate
  authorities, or a proxy presents its own certificate.
- ``"offline"``: no answer at all (name resolution failed, connection refused, timed out).

:func:`explain` turns an error into the message a learner reads; :func:`explained` does it around a block::

    with explained(handle, "the TF Hub model"):
        layer = hub.KerasLayer(handle)

Other errors pass through unchanged.
"""

from __future__ import annotations

import contextlib
import http
import re
import socket
import ssl
import urllib.error
import urllib.parse
from collections.abc import Iterator
from typing import NamedTuple

#: Hosts of the TF Hub model service (tfhub.dev redirects to Kaggle Models, which serves the files).
HUB_HOSTS = ("tfhub.dev", "kaggle.com", "kaggleusercontent.com", "tensorflow.google.cn")

#: The offline route for a TF Hub handle (the course builds the module from the Keras cache).
HUB_OFFLINE_HINT = (
    "build it from the Keras cache: python -m tools.hub_cache seed --backbone <name> "
    "(see docs/offline-and-scale.md, 'Running offline')."
)

#: The route that does not use the model hub at all.
KERAS_ROUTE = (
    "use a keras.applications backbone instead, whose weights come from Google's storage, not from the hub: "
    "helpers.models.load_backbone(name, input_shape) or keras.applications.EfficientNetB0(include_top=False); "
    "the course's notebooks switch to it with COURSE_BACKBONE=<name> (for example efficientnet_b0)."
)

_STATUS_PATTERNS = (
    re.compile(r"URL fetch failure on \S+: (\d{3}) -- ([^\n]*)"),  # keras.utils.get_file
    re.compile(r"HTTP Error (\d{3}): ([^\n]*)"),  # str(urllib.error.HTTPError)
    re.compile(r"HTTP code: (\d{3})"),  # tensorflow_datasets' DownloadError
    re.compile(r"too many (\d{3}) error responses"),  # requests / urllib3 after its retries
    re.compile(r"Expected 303 See other HTTP response but received code (\d{3})"),  # tensorflow_hub, uncompressed
    re.compile(r"\b(\d{3}) (?:Client|Server) Error: ([^\n]*?) for url"),  # requests' raise_for_status
)

_OFFLINE_TEXT = (
    "URL fetch failure",
    "urlopen error",
    "Connection refused",
    "Connection reset",
    "Name or service not known",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "getaddrinfo failed",
    "No address associated with hostname",
    "Network is unreachable",
    "No route to host",
    "Failed to establish a new connection",
    "Max retries exceeded",
    "timed out",
)


#: ``requests`` / ``urllib3`` exception classes (and their subclasses) that mean "no answer".
_LIBRARY_OFFLINE = frozenset(
    {"ConnectionError", "Timeout", "NewConnectionError", "NameResolutionError", "MaxRetryError", "ProtocolError"}
)


class Cause(NamedTuple):
    """What :func:`classify` found: the kind, the HTTP status (``"http"`` only), its reason and the evidence."""

    kind: str  # "http", "certificate" or "offline"
    status: int | None
    reason: str
    error: BaseException


def _chain(err: BaseException) -> list[BaseException]:
    """``err`` and every exception it wraps, outermost first (each once)."""
    seen: list[BaseException] = []
    todo = [err]
    while todo:
        current = todo.pop(0)
        if any(current is other for other in seen):
            continue
        seen.append(current)
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
        todo += [e for e in linked if isinstance(e, BaseException)]
    return seen


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _status(err: BaseException) -> tuple[int, str] | None:
    """The HTTP status and reason ``err`` itself carries, from its attributes or its message."""
    if isinstance(err, urllib.error.HTTPError):
        return int(err.code), str(err.reason or _phrase(err.code))
    response = getattr(err, "response", None)  # requests.HTTPError
    code = getattr(response, "status_code", None)
    if isinstance(code, int) and code >= 400:
        return code, str(getattr(response, "reason", "") or _phrase(code))
    text = str(err)
    for pattern in _STATUS_PATTERNS:
        match = pattern.search(text)
        if match and int(match.group(1)) >= 400:
            code = int(match.group(1))
            reason = match.group(2).strip() if pattern.groups > 1 else ""
            return code, reason or _phrase(code)
    return None


def _is_certificate(err: BaseException) -> bool:
    return isinstance(err, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(err)


def _is_offline(err: BaseException) -> bool:
    if isinstance(err, urllib.error.URLError | socket.gaierror | TimeoutError | ConnectionError | ssl.SSLError):
        return True
    if any(
        cls.__module__.split(".")[0] in ("requests", "urllib3") and cls.__name__ in _LIBRARY_OFFLINE
        for cls in type(err).__mro__
    ):
        return True
    text = str(err)
    return any(marker in text for marker in _OFFLINE_TEXT)


def classify(err: BaseException) -> Cause | None:
    """Which kind of network failure ``err`` is (looking through everything it wraps), or ``None``.

    An HTTP status anywhere in the chain wins over a certificate failure, which wins over "offline".

    Example:
        >>> classify(Exception("URL fetch failure on https://x/w.h5: 403 -- Forbidden"))[:3]
        ('http', 403, 'Forbidden')
        >>> classify(urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))).kind
        'offline'
        >>> classify(ValueError("not a SavedModel")) is None
        True
    """
    chain = _chain(err)
    for error in chain:
        found = _status(error)
        if found:
            return Cause("http", found[0], found[1], error)
    for error in chain:
        if _is_certificate(error):
            return Cause("certificate", None, "", error)
    for error in chain:
        if _is_offline(error):
            return Cause("offline", None, "", error)
    return None


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def is_hub(url: str) -> bool:
    """Whether ``url`` belongs to the TF Hub model service (tfhub.dev or Kaggle Models).

    Example:
        >>> is_hub("https://tfhub.dev/google/imagenet/resnet_v2_50/feature_vector/5"), is_hub("https://example.org/")
        (True, False)
    """
    host = urllib.parse.urlsplit(url).hostname or ""
    return any(host == name or host.endswith("." + name) for name in HUB_HOSTS)


def _detail(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}".strip().rstrip(":")


def _hub_http(status: int, reason: str, url: str, what: str) -> str:
    why = {
        403: "the hub refuses the request (in October 2025 many users suddenly got 403 for models that had loaded "
        "before: tensorflow/hub issues #931 and #932)",
        404: "the hub has no model at this handle: check it for typos (opened in a browser, a handle leads to the "
        "model's Kaggle page), or that version was withdrawn",
        429: "the hub limits how many downloads come from one address, and this one made too many (on Colab or a "
        "university network that address is shared with everyone else's downloads)",
    }.get(status, "the hub's servers are failing right now" if status >= 500 else "the hub refused the request")
    wait = (
        "wait longer, at least an hour, before you run the cell again"
        if status == 429
        else "wait a few minutes and run the cell again"
    )
    return (
        f"The model hub answered HTTP {status} {reason} for {what} ({url}). This is on the service's side, "
        f"not your network: your connection works, but {why}. What you can do (tensorflow/hub issues #922, #931, "
        f"#932, #933): 1) {wait}; 2) set TFHUB_CACHE_DIR to a folder that persists (for example "
        "export TFHUB_CACHE_DIR=$HOME/.cache/tfhub) so a model downloaded once is never fetched again; "
        "3) download the model from its Kaggle Models page (Download, as a .tar.gz), extract it and pass the "
        f"extracted folder as the handle; 4) {KERAS_ROUTE}"
    )


def explain(err: BaseException, url: str, what: str, *, hint: str = "", hub: bool | None = None) -> str:
    """A learner-facing message saying why downloading ``what`` from ``url`` failed with ``err``.

    ``hint`` is the route around the download (it follows "Without internet, " or "Or, without the
    download: "); for a hub URL it defaults to :data:`HUB_OFFLINE_HINT`. ``hub`` says whether ``url`` is a TF
    Hub handle (default: its host is one of :data:`HUB_HOSTS`). An error that is no network failure gets a
    plain "Could not download" message.

    Example:
        >>> err = urllib.error.HTTPError("https://www.kaggle.com/m", 429, "Too Many Requests", {}, None)
        >>> explain(err, "https://tfhub.dev/google/x/1", "the TF Hub model").split(". ")[0]
        'The model hub answered HTTP 429 Too Many Requests for the TF Hub model (https://tfhub.dev/google/x/1)'
        >>> explain(err, "https://example.org/data.zip", "the data").split(":")[0]
        'example.org answered HTTP 429 Too Many Requests for the data (https'
    """
    hub = is_hub(url) if hub is None else hub
    hint = hint or (HUB_OFFLINE_HINT if hub else "")
    cause = classify(err)
    instead = f" Or, without the download: {hint}" if hint else ""
    if cause is None:
        return f"Could not download {what} from {url} ({_detail(err)}).{instead}"
    if cause.kind == "http":
        status, reason = cause.status or 0, cause.reason
        if hub:
            return _hub_http(status, reason, url, what) + instead
        return (
            f"{_host(url)} answered HTTP {status} {reason} for {what} ({url}): the server refused the request. "
            "Your network works; check the address, or wait and try again later." + instead
        )
    if cause.kind == "certificate":
        return (
            f"The secure connection to {_host(url)} for {what} failed its certificate check "
            f"({_detail(cause.error)}). This is not a network outage: Python could not verify the server's "
            "certificate, because it lacks an up-to-date list of certificate authorities or because something in "
            "between (a company proxy, an antivirus) presents its own certificate. On macOS with Python from "
            'python.org, run "/Applications/Python 3.x/Install Certificates.command" once (3.x: your version); '
            "elsewhere point SSL_CERT_FILE at a CA bundle, for example export SSL_CERT_FILE=$(python -m certifi) "
            "(certifi is installed with requests); behind a company proxy, ask for its CA bundle and point "
            "SSL_CERT_FILE at that file. Then restart the kernel and run the cell again." + instead
        )
    offline = f" Without internet, {hint}" if hint else " Check your connection and run the cell again."
    return f"Could not download {what} from {url} ({_detail(err)}).{offline}"


@contextlib.contextmanager
def explained(url: str, what: str, hint: str = "", *, hub: bool | None = None) -> Iterator[None]:
    """Re-raise a network failure inside the block as ``ConnectionError(explain(...))``, from the original.

    Errors that are no network failure (:func:`classify` gives ``None``) pass through unchanged.

    Example:
        >>> with explained("https://tfhub.dev/google/x/1", "the TF Hub model"):
        ...     raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))
        Traceback (most recent call last):
        ...
        ConnectionError: Could not download the TF Hub model from https://tfhub.dev/google/x/1 (...
    """
    try:
        yield
    except Exception as err:
        if getattr(err, "explained", False) or classify(err) is None:
            raise
        raise _explained_error(explain(err, url, what, hint=hint, hub=hub)) from err


def _explained_error(message: str) -> ConnectionError:
    """``ConnectionError(message)``, marked so an outer :func:`explained` passes it on instead of wrapping it."""
    error = ConnectionError(message)
    error.explained = True  # type: ignore[attr-defined]
    return error
