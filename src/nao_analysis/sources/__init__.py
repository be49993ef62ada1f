"""Raw sources: the registry, and fetch (cache -> mirror -> HTTPS download) with provenance."""

from nao_analysis.sources.fetch import USED_INPUTS, fetch, status
from nao_analysis.sources.registry import Source, load_registry

__all__ = ["USED_INPUTS", "Source", "fetch", "load_registry", "status"]
