"""HTTPS downloads with retries, backoff, a timeout, a size cap, content checks and a progress bar.

Every redirect is followed by hand so that its target is checked against the allowlist too:
an official URL must never bounce the suite to an arbitrary host.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urljoin

from nao_analysis.errors import DownloadError

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_REDIRECTS = 5

#: First bytes every genuine file of these types starts with (zip container, OLE2 compound file).
MAGIC_BYTES = {
    ".xlsx": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
    ".zip": (b"PK\x03\x04", b"PK\x05\x06"),
    ".xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
}


def _session():
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=int(os.environ.get("NAO_DOWNLOAD_RETRIES", "5")),
        backoff_factor=float(os.environ.get("NAO_DOWNLOAD_BACKOFF", "1.0")),
        # A hostile or confused server must not park the build for hours with a huge Retry-After.
        retry_after_max=int(float(os.environ.get("NAO_DOWNLOAD_RETRY_AFTER_MAX", "120"))),
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        redirect=False,
    )
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.headers["User-Agent"] = "nao-analysis (reproducible audit analysis; +https://www.nao.org.uk)"
    return session


def _timeout() -> tuple[float, float]:
    seconds = float(os.environ.get("NAO_DOWNLOAD_TIMEOUT", "60"))
    return (min(seconds, 15.0), seconds)


def _one_line_reason(exc: BaseException) -> str:
    return " ".join(str(exc).split("(Caused by")[-1].strip(" )").split())[:160]


def _get(url: str, stream: bool):
    """GET ``url`` (retrying transient failures), following allowlisted redirects only; return a 200 response."""
    import requests

    from nao_analysis.sources.fetch import check_url_allowed

    session = _session()
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            response = session.get(current, stream=stream, timeout=_timeout(), allow_redirects=False)
        except requests.exceptions.Timeout:
            session.close()
            raise DownloadError(f"{url}: timed out after {_timeout()[1]:g}s - try again later, or raise NAO_DOWNLOAD_TIMEOUT") from None
        except requests.exceptions.RetryError as exc:
            session.close()
            raise DownloadError(
                f"{url}: gave up after retries ({_one_line_reason(exc)}) - the server is rate-limiting or failing; try again later"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            session.close()
            reason = _one_line_reason(exc)
            if "timed out" in reason.lower():
                # urllib3 reports a read timeout that survived every retry as a connection error.
                raise DownloadError(
                    f"{url}: timed out after {_timeout()[1]:g}s on every attempt - try again later, or raise NAO_DOWNLOAD_TIMEOUT"
                ) from None
            raise DownloadError(
                f"{url}: could not connect ({reason}) - check the network, or point NAO_DATA_MIRROR at a local copy"
            ) from None
        if response.is_redirect:
            location = urljoin(current, response.headers.get("Location", ""))
            response.close()
            check_url_allowed(location, f"{url} redirected to")
            current = location
            continue
        if response.status_code != 200:
            response.close()
            session.close()
            raise DownloadError(
                f"{url}: HTTP {response.status_code} {response.reason} - check the URL in data/sources.yaml, or try again later"
            )
        return response
    session.close()
    raise DownloadError(f"{url}: more than {MAX_REDIRECTS} redirects - check the URL in data/sources.yaml")


def _looks_like_html(first: bytes, content_type: str) -> bool:
    from nao_analysis.sources.fetch import HTML_SIGNATURES

    start = first.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "text/html" in content_type.lower() or start.startswith(HTML_SIGNATURES)


def download_to(url: str, target: Path, *, expect_binary: bool = True, max_bytes: int | None = None) -> None:
    """Stream ``url`` into ``target``, refusing anything that is not the file it should be.

    Parameters
    ----------
    url
        An allowlisted HTTPS address (the caller checks it).
    target
        Where to write; the caller owns it and removes it if this raises.
    expect_binary
        True for spreadsheets and archives: the body must start with the magic bytes of
        ``target``'s final suffix where that is known, and must never be HTML.
    max_bytes
        Size cap; defaults to ``fetch.MAX_DOWNLOAD_BYTES``.

    Raises
    ------
    DownloadError
        On an HTTP error, a timeout, a truncated or oversized body, an empty body, or an
        HTML page or other wrong content served in place of the file.
    """
    import requests
    from tqdm.auto import tqdm

    from nao_analysis.sources.fetch import MAX_DOWNLOAD_BYTES

    max_bytes = max_bytes or MAX_DOWNLOAD_BYTES
    response = _get(url, stream=True)
    with response:
        try:
            declared = max(int(response.headers.get("Content-Length") or 0), 0)
        except ValueError:
            declared = 0  # a malformed header proves nothing; the size cap and the hash still apply
        if declared > max_bytes:
            raise DownloadError(f"{url}: declares {declared:,} bytes, over the {max_bytes:,}-byte limit - refusing the download")
        received = 0
        first = b""
        try:
            with (
                open(target, "wb") as out,
                tqdm(total=declared or None, unit="B", unit_scale=True, desc=target.name, disable=None, leave=False) as bar,
            ):
                for chunk in response.iter_content(1 << 16):
                    if len(first) < 512:
                        first += chunk[: 512 - len(first)]
                    received += len(chunk)
                    if received > max_bytes:
                        raise DownloadError(f"{url}: more than {max_bytes:,} bytes - refusing the download")
                    out.write(chunk)
                    bar.update(len(chunk))
        except requests.exceptions.RequestException as exc:
            reason = _one_line_reason(exc)
            if "timed out" in reason.lower():
                raise DownloadError(
                    f"{url}: stalled after {received:,} bytes (no data for {_timeout()[1]:g}s) - "
                    "try again later, or raise NAO_DOWNLOAD_TIMEOUT"
                ) from None
            raise DownloadError(
                f"{url}: connection broke after {received:,} bytes ({exc.__class__.__name__}: truncated download) - try again"
            ) from None
        if declared and received < declared:
            raise DownloadError(f"{url}: truncated, received {received:,} of {declared:,} bytes - try again")
        if received == 0:
            raise DownloadError(f"{url}: empty response (0 bytes) - check the URL, or try again later")
        if _looks_like_html(first, response.headers.get("Content-Type", "")):
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


def get_json(url: str) -> dict:
    """GET ``url`` and parse it as a JSON object (the GOV.UK content API)."""
    response = _get(url, stream=False)
    try:
        data = response.json()
    except ValueError:
        raise DownloadError(f"{url}: response is not JSON - check the GOV.UK page slug") from None
    finally:
        response.close()
    if not isinstance(data, dict):
        raise DownloadError(f"{url}: JSON is a {type(data).__name__}, not an object - check the GOV.UK page slug")
    return data
