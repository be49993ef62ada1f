"""The fetch layer's public face: ``fetch(source_id, settings) -> Resolved`` and ``status(source, settings)``.

The work is split by concern, with no import cycles (each imports only those before it):

- :mod:`~nao_analysis.sources.policy` - the allowlist, size limits per format, signatures of real files;
- :mod:`~nao_analysis.sources.provenance` - the raw cache on disk and the provenance records beside its files;
- :mod:`~nao_analysis.sources.download` - HTTP: redirects checked hop by hop, deadline, minimum rate, retries;
- :mod:`~nao_analysis.sources.archives` - safe zip extraction;
- :mod:`~nao_analysis.sources.fingertips` - the Fingertips API route;
- :mod:`~nao_analysis.sources.resolve` - cache -> mirror -> route, and the table of routes.
"""

from __future__ import annotations

from nao_analysis.sources.archives import safe_extract_zip
from nao_analysis.sources.policy import OFFICIAL_HOSTS, check_url_allowed, max_bytes_for
from nao_analysis.sources.provenance import (
    Provenance,
    cache_path,
    provenance_path,
    sha256_of,
)
from nao_analysis.sources.resolve import ROUTES, Resolved, fetch, fetch_file, route_kind, status

__all__ = [
    "OFFICIAL_HOSTS",
    "ROUTES",
    "Provenance",
    "Resolved",
    "cache_path",
    "check_url_allowed",
    "fetch",
    "fetch_file",
    "max_bytes_for",
    "provenance_path",
    "route_kind",
    "safe_extract_zip",
    "sha256_of",
    "status",
]
