"""HTTP for the fetch layer: one session per fetch, allowlisted at every hop, bounded in size and time.

- Every redirect is followed by hand, and its ``Location`` checked against the allowlist before it is requested.
- Each request is prepared first and its prepared URL checked again: that URL is what urllib3 connects to.
- Transient HTTP failures (429, 5xx) and read errors are retried with backoff; a host that cannot be
  resolved or refuses the connection is tried once and reported as unavailable (the build then *skips*).
- A download has a per-read timeout, an overall deadline and a minimum rate, so a server that dribbles
  bytes (a slow-loris) cannot hold a build for hours.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

from nao_analysis.errors import DownloadError, SourceError, SourceUnavailableError
from nao_analysis.settings import Settings
from nao_analysis.sources.policy import (
    MAGIC_BYTES,
    check_prepared_request,
    check_url_allowed,
    expects_binary,
    looks_like_html,
    max_bytes_for,
    refuse_bad_status,
)

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_REDIRECTS = 5
#: Connecting is quick or it is not going to happen: a missing network must not stall the build.
MAX_CONNECT_TIMEOUT = 10.0
#: The minimum rate is judged over windows of this many seconds (at most a quarter of the deadline).
RATE_WINDOW_SECONDS = 10.0
CHUNK_BYTES = 1 << 16
USER_AGENT = "nao-analysis (reproducible audit analysis; +https://www.nao.org.uk)"


def _one_line_reason(exc: BaseException) -> str:
    return " ".join(str(exc).split("(Caused by")[-1].strip(" )").split())[:160]


def _unreachable(exc: BaseException) -> str | None:
    """Why a host cannot be reached at all, in plain words (no retry will help soon), or None if it can be."""
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        # urllib3 derives NameResolutionError from NewConnectionError, and that from ConnectTimeoutError: most specific first.
        if isinstance(current, NameResolutionError):
            return "its host name could not be resolved"
        if isinstance(current, NewConnectionError):
            return "the connection was refused"
        if isinstance(current, ConnectTimeoutError):
            return "the connection timed out"
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
    return None


def _tracking_adapter(retry, sockets: list, expired: threading.Event):
    """An HTTPAdapter whose connections register their sockets, so a deadline can cut them off mid-read."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Tracked:
        def connect(self) -> None:
            if expired.is_set():
                raise ConnectionAbortedError("the download deadline has passed")
            super().connect()
            sockets.append(self.sock)

    class TrackedHTTPConnection(Tracked, HTTPConnection):
        pass

    class TrackedHTTPSConnection(Tracked, HTTPSConnection):
        pass

    class TrackedHTTPPool(HTTPConnectionPool):
        ConnectionCls = TrackedHTTPConnection

    class TrackedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = TrackedHTTPSConnection

    class TrackingAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs) -> None:
            super().init_poolmanager(*args, **kwargs)
            # Replaced on this pool manager only (the default mapping is shared by every PoolManager).
            self.poolmanager.pool_classes_by_scheme = {"http": TrackedHTTPPool, "https": TrackedHTTPSPool}

    return TrackingAdapter(max_retries=retry)


class DownloadSession:
    """HTTP for one fetch, under the run's settings. Routes receive one to make their requests with.

    Parameters
    ----------
    settings
        Timeouts, deadline, minimum rate, retries and the extra loopback origins.
    scratch
        A private folder a route may write a file it builds itself into (see :meth:`new_file`); the resolver
        creates it beside the cache and removes it afterwards.
    """

    def __init__(self, settings: Settings, scratch: Path | None = None) -> None:
        import requests
        from urllib3.util.retry import Retry

        self.settings = settings
        self.scratch = scratch
        #: What a route chose on the way (e.g. the attachment it picked); kept in the file's provenance.
        self.notes: dict[str, object] = {}
        retries = max(int(settings.download_retries), 0)
        retry = Retry(
            total=retries,
            connect=0,  # name resolution and refused connections: once, then the source is unavailable
            read=retries,
            status=retries,
            other=0,
            backoff_factor=settings.download_backoff,
            # A hostile or confused server must not park the build for hours with a huge Retry-After.
            retry_after_max=int(settings.retry_after_max),
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            redirect=False,
        )
        # Sockets of this session's connections, cut off by the deadline watchdog (see _deadline).
        self._sockets: list[socket.socket] = []
        self._expired = threading.Event()
        self._session = requests.Session()
        adapter = _tracking_adapter(retry, self._sockets, self._expired)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        from nao_analysis.sources.routes import RedirectedAdapter

        for official, local in settings.host_overrides:
            self._session.mount(official + "/", RedirectedAdapter(official, local, max_retries=retry))
        self._session.headers["User-Agent"] = USER_AGENT

    # -- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> DownloadSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- for routes -------------------------------------------------------------------------------
    def new_file(self, name: str) -> Path:
        """A path in the scratch folder for a file a route assembles itself (return it from the route)."""
        if self.scratch is None:
            raise RuntimeError("this session has no scratch folder")
        self.scratch.mkdir(parents=True, exist_ok=True)
        return self.scratch / Path(name).name

    def note(self, key: str, value: object) -> None:
        """Record a choice a route made (kept in the provenance record as ``route_notes``)."""
        self.notes[key] = value

    # -- deadline -----------------------------------------------------------------------------------
    def _expire(self) -> None:
        self._expired.set()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked on a silent or dribbling server

    @contextlib.contextmanager
    def _deadline(self, url: str) -> Iterator[None]:
        """Bound everything inside - connecting, waiting for headers, reading the body - by the download deadline."""
        seconds = float(self.settings.download_deadline)
        if seconds <= 0:
            yield
            return
        timer = threading.Timer(seconds, self._expire)
        timer.daemon = True
        timer.start()
        try:
            yield
        except SourceError:
            if not self._expired.is_set():
                raise
            raise DownloadError(
                f"{url}: not finished within the {seconds:g}s deadline - try again later, or raise NAO_DOWNLOAD_DEADLINE"
            ) from None
        finally:
            timer.cancel()

    # -- requests -----------------------------------------------------------------------------------
    @property
    def timeout(self) -> tuple[float, float]:
        seconds = float(self.settings.download_timeout)
        return (min(seconds, MAX_CONNECT_TIMEOUT), seconds)

    def _send(self, url: str, original: str, stream: bool):
        import requests

        request = self._session.prepare_request(requests.Request("GET", url))
        check_prepared_request(request, f"{original} (as requested)", self.settings)
        try:
            return self._session.send(request, stream=stream, timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            reason = _one_line_reason(exc)
            unreachable = _unreachable(exc)
            if unreachable:
                raise SourceUnavailableError(
                    f"{original}: cannot reach the server ({unreachable}) - check the network, "
                    "or point NAO_DATA_MIRROR at a folder holding the file"
                ) from None
            if isinstance(exc, requests.exceptions.Timeout) or "timed out" in reason.lower():
                raise DownloadError(
                    f"{original}: timed out after {self.timeout[1]:g}s - try again later, or raise NAO_DOWNLOAD_TIMEOUT"
                ) from None
            if isinstance(exc, requests.exceptions.RetryError):
                raise DownloadError(
                    f"{original}: gave up after retries ({reason}) - the server is rate-limiting or failing; try again later"
                ) from None
            raise DownloadError(f"{original}: request failed ({reason}) - try again later") from None

    def get(self, url: str, *, stream: bool = False, where: str = "URL"):
        """GET ``url``, following allowlisted redirects only; return a 200 response (the caller closes it).

        Raises
        ------
        SourceError
            The URL or a redirect target is not allowed.
        SourceUnavailableError
            The host cannot be resolved or reached (tried once).
        DownloadError
            An HTTP error after retries, a timeout, or too many redirects.
        """
        check_url_allowed(url, where, self.settings)
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._send(current, url, stream)
            if response.is_redirect:
                location = response.headers.get("Location", "")
                response.close()
                # The raw header is judged before joining: urljoin would quietly turn a disguised host into a plausible one.
                if "\\" in location or "@" in location or "://" in location:
                    check_url_allowed(location, f"{url} redirected to", self.settings)
                target = urljoin(current, location)
                check_url_allowed(target, f"{url} redirected to", self.settings)
                current = target
                continue
            refuse_bad_status(response, url)
            return response
        raise DownloadError(f"{url}: more than {MAX_REDIRECTS} redirects - check the URL in data/sources.yaml")

    def get_json(self, url: str, *, where: str = "URL") -> dict:
        """GET ``url`` and parse it as a JSON object (e.g. a content API answer)."""
        with self._deadline(url):
            response = self.get(url, where=where)
            try:
                data = response.json()
            except ValueError:
                raise DownloadError(f"{url}: response is not JSON - check the address of the page or query") from None
            finally:
                response.close()
        if not isinstance(data, dict):
            raise DownloadError(f"{url}: JSON is a {type(data).__name__}, not an object - check the address of the page or query")
        return data

    def download_to(self, url: str, target: Path, *, max_bytes: int, expect_binary: bool = True, where: str = "URL") -> None:
        """Stream ``url`` into ``target``, refusing anything that is not the file it should be.

        Parameters
        ----------
        url
            Checked against the allowlist here (and every redirect on the way).
        target
            Where to write; the caller owns it and removes it if this raises.
        max_bytes
            Size cap (see :func:`nao_analysis.sources.policy.max_bytes_for`).
        expect_binary
            True for spreadsheets and archives: the body must start with the magic bytes of
            ``target``'s suffix where that is known, and must never be HTML.

        Raises
        ------
        DownloadError
            An HTTP error, a timeout, the deadline or minimum rate missed, a truncated, oversized or
            empty body, or an HTML page or other wrong content served in place of the file.
        """
        with self._deadline(url):
            self._download(url, target, max_bytes=max_bytes, expect_binary=expect_binary, where=where)

    def _download(self, url: str, target: Path, *, max_bytes: int, expect_binary: bool, where: str) -> None:
        from tqdm.auto import tqdm

        started = time.monotonic()
        response = self.get(url, stream=True, where=where)
        with response:
            try:
                declared = max(int(response.headers.get("Content-Length") or 0), 0)
            except ValueError:
                declared = 0  # a malformed header proves nothing; the size cap and the hash still apply
            if declared > max_bytes:
                raise DownloadError(f"{url}: declares {declared:,} bytes, over the {max_bytes:,}-byte limit - refusing the download")
            with (
                open(target, "wb") as out,
                tqdm(total=declared or None, unit="B", unit_scale=True, desc=target.name, disable=None, leave=False) as bar,
            ):
                received, first = self._stream_body(response, url, out, bar, max_bytes, started)
        if declared and received < declared:
            raise DownloadError(f"{url}: truncated, received {received:,} of {declared:,} bytes - try again")
        if received == 0:
            raise DownloadError(f"{url}: empty response (0 bytes) - check the URL, or try again later")
        if "text/html" in response.headers.get("Content-Type", "").lower() or looks_like_html(first):
            raise DownloadError(
                f"{url}: returned an HTML page instead of a data file - the link has probably moved; "
                "find the current file on the publisher's page and update data/sources.yaml"
            )
        magic = MAGIC_BYTES.get(target.suffix.lower()) if expect_binary else None
        if magic and not first.startswith(magic):
            raise DownloadError(
                f"{url}: content is not a {target.suffix} file (starts with {first[:8]!r}) - "
                "the link has probably moved; find the current file on the publisher's page"
            )

    def _stream_body(self, response, url: str, out, bar, max_bytes: int, started: float) -> tuple[int, bytes]:
        """Copy the body to ``out`` under the size cap, the deadline and the minimum rate; return (bytes, first 512)."""
        import requests
        from urllib3.exceptions import HTTPError as Urllib3Error

        deadline = float(self.settings.download_deadline)
        min_rate = float(self.settings.download_min_rate)
        # read1 returns whatever one socket read brings, so a dribbling server hands control back often
        # enough for the deadline and the rate to be judged (read() would wait for a whole chunk).
        raw = response.raw
        window = min(RATE_WINDOW_SECONDS, deadline / 4) if deadline > 0 else RATE_WINDOW_SECONDS
        mark_time, mark_bytes = time.monotonic(), 0
        received = 0
        first = b""
        try:
            while True:
                chunk = raw.read1(CHUNK_BYTES, decode_content=True)
                if not chunk:
                    break
                if len(first) < 512:
                    first += chunk[: 512 - len(first)]
                received += len(chunk)
                if received > max_bytes:
                    raise DownloadError(f"{url}: more than {max_bytes:,} bytes, over the {max_bytes:,}-byte limit - refusing the download")
                out.write(chunk)
                bar.update(len(chunk))
                clock = time.monotonic()
                if deadline > 0 and clock - started > deadline:
                    raise DownloadError(
                        f"{url}: not finished within the {deadline:g}s deadline ({received:,} bytes so far) - "
                        "try again later, or raise NAO_DOWNLOAD_DEADLINE"
                    )
                if clock - mark_time >= window:
                    rate = (received - mark_bytes) / (clock - mark_time)
                    if min_rate > 0 and rate < min_rate:
                        raise DownloadError(
                            f"{url}: too slow ({rate:,.0f} bytes/s over {clock - mark_time:.1f}s, below the minimum "
                            f"{min_rate:,.0f} bytes/s) - try again later, or lower NAO_DOWNLOAD_MIN_RATE"
                        )
                    mark_time, mark_bytes = clock, received
        except (requests.exceptions.RequestException, Urllib3Error, ConnectionError, TimeoutError) as exc:
            reason = _one_line_reason(exc)
            if "timed out" in reason.lower() or isinstance(exc, TimeoutError):
                raise DownloadError(
                    f"{url}: stalled after {received:,} bytes (no data for {self.timeout[1]:g}s) - "
                    "try again later, or raise NAO_DOWNLOAD_TIMEOUT"
                ) from None
            raise DownloadError(
                f"{url}: connection broke after {received:,} bytes ({exc.__class__.__name__}: truncated download) - try again"
            ) from None
        return received, first


def download_to(url: str, target: Path, settings: Settings, *, max_bytes: int | None = None, expect_binary: bool | None = None) -> None:
    """One download outside a source's route (e.g. ``sources add --url``), with every check a fetch gets.

    ``max_bytes`` defaults to the cap for ``target``'s kind of file, ``expect_binary`` to what its suffix implies.
    """
    limit = max_bytes if max_bytes is not None else max_bytes_for(None, target.name)
    binary = expects_binary(target.name) if expect_binary is None else expect_binary
    with DownloadSession(settings) as session:
        session.download_to(url, target, max_bytes=limit, expect_binary=binary)
