"""HTTPS downloads with retries, backoff, a timeout, a size cap and a progress bar."""

from __future__ import annotations

import os
from pathlib import Path

from nao_analysis.errors import DownloadError

RETRY_STATUSES = (429, 500, 502, 503, 504)


def _session():
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=int(os.environ.get("NAO_DOWNLOAD_RETRIES", "5")),
        backoff_factor=float(os.environ.get("NAO_DOWNLOAD_BACKOFF", "1.0")),
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.headers["User-Agent"] = "nao-analysis (reproducible audit analysis; +https://www.nao.org.uk)"
    return session


def _timeout() -> tuple[float, float]:
    seconds = float(os.environ.get("NAO_DOWNLOAD_TIMEOUT", "60"))
    return (min(seconds, 15.0), seconds)


def _get(url: str, stream: bool):
    import requests

    try:
        response = _session().get(url, stream=stream, timeout=_timeout())
    except requests.exceptions.Timeout:
        raise DownloadError(f"{url}: timed out after {_timeout()[1]:.0f}s - try again later, or set NAO_DOWNLOAD_TIMEOUT") from None
    except requests.exceptions.RetryError as exc:
        raise DownloadError(f"{url}: gave up after retries ({exc.__class__.__name__}) - the server is rate-limiting or failing; try again later") from None
    except requests.exceptions.ConnectionError as exc:
        reason = str(exc).split("(Caused by")[-1].strip(" )")[:120]
        raise DownloadError(f"{url}: could not connect ({reason}) - check the network, or point NAO_DATA_MIRROR at a local copy") from None
    if response.status_code != 200:
        raise DownloadError(f"{url}: HTTP {response.status_code} {response.reason} - check the URL in data/sources.yaml, or try again later")
    return response


def download_to(url: str, target: Path, *, expect_binary: bool = True, max_bytes: int | None = None) -> None:
    """Stream ``url`` into ``target``; raise on HTTP errors, truncation, oversize or an HTML error page."""
    from tqdm.auto import tqdm

    from nao_analysis.sources.fetch import HTML_SIGNATURES, MAX_DOWNLOAD_BYTES

    import requests

    max_bytes = max_bytes or MAX_DOWNLOAD_BYTES
    response = _get(url, stream=True)
    declared = int(response.headers.get("Content-Length") or 0)
    if declared > max_bytes:
        raise DownloadError(f"{url}: declares {declared:,} bytes, over the {max_bytes:,}-byte limit - refusing the download")
    received = 0
    first = b""
    try:
        with open(target, "wb") as out, tqdm(total=declared or None, unit="B", unit_scale=True, desc=target.name, disable=None, leave=False) as bar:
            for chunk in response.iter_content(1 << 16):
                if not first:
                    first = chunk[:512]
                received += len(chunk)
                if received > max_bytes:
                    raise DownloadError(f"{url}: more than {max_bytes:,} bytes - refusing the download")
                out.write(chunk)
                bar.update(len(chunk))
    except requests.exceptions.RequestException as exc:
        raise DownloadError(f"{url}: connection broke after {received:,} bytes ({exc.__class__.__name__}) - try again") from None
    if declared and received < declared:
        raise DownloadError(f"{url}: truncated, received {received:,} of {declared:,} bytes - try again")
    if received == 0:
        raise DownloadError(f"{url}: empty response (0 bytes) - check the URL, or try again later")
    content_type = response.headers.get("Content-Type", "")
    looks_html = first.lstrip().lower().startswith(HTML_SIGNATURES[:2]) or "text/html" in content_type
    if looks_html:
        raise DownloadError(f"{url}: returned an HTML page instead of a data file - the link has probably moved; find the current file on the publisher's page")


def get_json(url: str) -> dict:
    response = _get(url, stream=False)
    try:
        return response.json()
    except ValueError:
        raise DownloadError(f"{url}: response is not JSON - check the GOV.UK page slug") from None
