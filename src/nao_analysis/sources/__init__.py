"""Raw sources: the registry, and fetch (cache -> mirror -> route) returning a verified file with its provenance."""

# Importing a submodule binds its name on the package: load the ``fetch`` module before the function of
# the same name is bound below, so a later ``import nao_analysis.sources.fetch`` cannot replace the function.
import nao_analysis.sources.fetch  # noqa: F401
from nao_analysis.sources.registry import Source, load_registry
from nao_analysis.sources.resolve import Resolved, fetch, status

__all__ = ["Resolved", "Source", "fetch", "load_registry", "status"]
