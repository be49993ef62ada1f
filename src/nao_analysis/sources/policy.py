"""What the fetch layer accepts: the host allowlist, size limits per format and the signatures of real files.

Pure rules, no I/O: every other module of ``nao_analysis.sources`` asks here, and this module imports none of them.

The allowlist is checked on the host the HTTP library will actually connect to. ``urllib.parse`` and
urllib3 disagree about URLs such as ``https://evil.example\\@www.gov.uk/x`` (the first sees ``www.gov.uk``,
the second connects to ``evil.example``), so a URL is parsed with urllib3's own parser, the two parsers
must agree, and backslashes, ``@`` and user information are refused outright: no official file needs them.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from nao_analysis.errors import SourceError
from nao_analysis.safe_io import file_looks_like_html, looks_like_html
from nao_analysis.settings import Settings

__all__ = [
    "ARCHIVE_MAX_RATIO",
    "MAGIC_BYTES",
    "OFFICIAL_HOSTS",
    "allowed_origins",
    "check_prepared_request",
    "check_url_allowed",
    "expects_binary",
    "file_looks_like_html",
    "looks_like_html",
    "max_bytes_for",
]

#: Hosts that publish the official files this suite reads. Anything else is refused.
OFFICIAL_HOSTS = frozenset(
    {
        "www.gov.uk",
        "assets.publishing.service.gov.uk",
        "www.ons.gov.uk",
        "geoportal.statistics.gov.uk",
        "open-geography-portalx-ons.hub.arcgis.com",
        "services1.arcgis.com",
        "fingertips.phe.org.uk",
        "www.ndtms.net",
    }
)

MiB = 1024**2
#: Size caps by kind of file. The largest real file of each kind is 1-3 MB (RO3 2013-14 .xls: 3.1 MB;
#: CTYUA boundaries: 0.7 MB as GeoJSON); the caps leave room for full-resolution or many-year releases
#: while refusing a runaway or hostile response long before it fills the disk.
SIZE_LIMITS = {
    "spreadsheet": 50 * MiB,
    "table": 100 * MiB,
    "geometry": 200 * MiB,
    "archive": 500 * MiB,
    "other": 100 * MiB,
}
#: Registry formats whose kind is not obvious from their name.
FORMAT_KINDS = {
    "shapefile": "archive",
    "geojson": "geometry",
    "topojson": "geometry",
    "json": "table",
    "ons_drug_deaths_table1": "spreadsheet",
}
#: Kinds by filename suffix, for formats this table does not know yet.
SUFFIX_KINDS = {
    ".xls": "spreadsheet",
    ".xlsx": "spreadsheet",
    ".ods": "spreadsheet",
    ".csv": "table",
    ".gz": "table",
    ".txt": "table",
    ".json": "table",
    ".geojson": "geometry",
    ".shp": "geometry",
    ".zip": "archive",
}
#: Expanded size and expansion ratio an archive may reach (a zip bomb goes far beyond both).
ARCHIVE_MAX_EXPANDED_BYTES = 2 * 1024**3
ARCHIVE_MAX_RATIO = 200

#: First bytes every genuine file of these types starts with (zip container, OLE2 compound file).
MAGIC_BYTES = {
    ".xlsx": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
    ".zip": (b"PK\x03\x04", b"PK\x05\x06"),
    ".xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
}
TEXT_SUFFIXES = (".csv", ".json", ".geojson", ".txt")


def size_kind(fmt: str | None, filename: str | None = None) -> str:
    """The kind of file a registry format (or, failing that, a filename) names, for :data:`SIZE_LIMITS`."""
    name = (fmt or "").lower()
    if name in FORMAT_KINDS:
        return FORMAT_KINDS[name]
    if any(token in name for token in ("xls", "ods")):
        return "spreadsheet"
    if "csv" in name:
        return "table"
    suffix = "." + (filename or "").lower().rsplit(".", 1)[-1] if filename and "." in filename else ""
    return SUFFIX_KINDS.get(suffix, "other")


def max_bytes_for(fmt: str | None, filename: str | None = None) -> int:
    """The largest file of registry format ``fmt`` the suite accepts, downloaded or added with ``sources add --file``.

    Parameters
    ----------
    fmt
        A registry ``format`` (e.g. ``ro3_ods``, ``fingertips_csv``, ``shapefile``).
    filename
        Consulted when the format is not one this module recognises (its suffix decides).
    """
    return SIZE_LIMITS[size_kind(fmt, filename)]


def expects_binary(filename: str) -> bool:
    """Whether a file must be a binary container (and so can never legitimately start like text)."""
    return not filename.lower().endswith(TEXT_SUFFIXES)


def _origin(scheme: str, host: str, port: int | None) -> str:
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def allowed_origins(settings: Settings) -> set[str]:
    """Extra loopback origins allowed for tests and local protocol servers (``settings.extra_allowed_origins``)."""
    extra = set()
    for origin in settings.extra_allowed_origins:
        try:
            parsed = parse_url(origin.strip().rstrip("/"))
        except LocationParseError:
            parsed = None
        host = (parsed.host or "") if parsed else ""
        loopback = host == "localhost"
        if not loopback:
            try:
                loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
            except ValueError:
                loopback = False
        if not loopback or parsed.auth or "\\" in origin or "@" in origin:
            raise SourceError(f"NAO_EXTRA_ALLOWED_ORIGINS: {origin!r} is not a loopback address - only 127.0.0.1/localhost may be added")
        extra.add(_origin(parsed.scheme or "http", host, parsed.port))
    return extra


def check_url_allowed(url: str, where: str, settings: Settings) -> None:
    """Refuse anything but HTTPS to an official host (or an allowed loopback origin), judged as urllib3 connects.

    Parameters
    ----------
    url
        The address about to be requested: a registry ``url``, a route's answer or a redirect target.
    where
        What to blame in the message (``data/sources.yaml source 'x'``, ``<url> redirected to``).
    settings
        For the extra loopback origins a test or local server may add.

    Raises
    ------
    SourceError
        One line naming the URL, why it is refused and what to do.
    """
    text = url if isinstance(url, str) else repr(url)
    if "\\" in text:
        raise SourceError(
            f"{where}: URL {text!r} contains a backslash, which HTTP clients read differently (a way to reach another host) "
            "- give the publisher's plain https address"
        )
    if "@" in text:
        raise SourceError(
            f"{where}: URL {text!r} contains '@' (user information, a way to disguise the host) - give the publisher's plain https address"
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise SourceError(f"{where}: URL {text!r} contains spaces or control characters - give the publisher's plain https address")
    try:
        parsed = parse_url(text)
        split = urlsplit(text)
        split_host, split_port = split.hostname, split.port
    except (LocationParseError, ValueError):
        raise SourceError(f"{where}: URL {text!r} cannot be parsed - give the publisher's plain https address") from None
    host = (parsed.host or "").lower()
    scheme = (parsed.scheme or "").lower()
    if parsed.auth is not None or host != (split_host or "") or parsed.port != split_port:
        raise SourceError(
            f"{where}: URL {text!r} is read as host {host!r} by the HTTP client but {split_host!r} by other parsers "
            "- give the publisher's plain https address"
        )
    if _origin(scheme, host, parsed.port) in allowed_origins(settings):
        return
    if scheme != "https":
        raise SourceError(f"{where}: URL {text!r} is not https - use the publisher's https address")
    if host not in OFFICIAL_HOSTS or parsed.port not in (None, 443):
        raise SourceError(
            f"{where}: host {host!r} is not an official publisher on the allowlist "
            f"({', '.join(sorted(OFFICIAL_HOSTS))}) - use the official URL, "
            "or add a file obtained by hand with `nao-analysis sources add ID --file PATH`"
        )


def check_prepared_request(prepared, where: str, settings: Settings) -> None:
    """Check a ``requests.PreparedRequest`` again: its URL is the one the adapter hands to urllib3."""
    check_url_allowed(prepared.url, where, settings)


def refuse_bad_status(response, url: str) -> None:
    """A publisher's 404/410 means the file is unavailable here (the figure is skipped); any other non-200 is a fault."""
    from nao_analysis.errors import DownloadError, SourceUnavailableError

    if response.status_code in (404, 410):
        response.close()
        raise SourceUnavailableError(
            f"{url}: HTTP {response.status_code} {response.reason} - the publisher has no file here (moved or withdrawn); "
            "run `nao-analysis sources check --online` for the fix, or point NAO_DATA_MIRROR at a copy"
        )
    if response.status_code != 200:
        response.close()
        raise DownloadError(
            f"{url}: HTTP {response.status_code} {response.reason} - check the route in data/sources.yaml with "
            "`nao-analysis sources check --online`, or try again later"
        )
