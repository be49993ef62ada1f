"""The first moments of a build, kept apart from :mod:`nao_analysis.build` so the command line can take them
before importing the rest: the stats of the build's inputs, then the kernel fork server's start.

The fork server imports everything a figure uses (about three seconds); no figure can start before it is
ready, so it is started first, and the build plans while it imports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nao_analysis import build_memo

if TYPE_CHECKING:
    from nao_analysis.kernels import ForkServer
    from nao_analysis.settings import Settings


@dataclass
class EarlyStart:
    """What a build begins with, taken before it reads anything: the stats of its inputs and its fork server
    (None with fresh kernels, or when the server could not be started)."""

    inputs: dict[str, Any]
    server: ForkServer | None


def start_early(settings: Settings, edition_name: str, kernels: str, log: Callable[..., Any] = print) -> EarlyStart:
    """Take the input stats, then start the fork server (when ``kernels`` is ``"fork"``) without waiting for it.

    The build that is handed the result stops the server, at once if nothing needs a kernel."""
    # Before anything is read: an edit made while this build runs must not be mistaken for what it built.
    inputs = build_memo.input_stats(settings, edition_name)
    return EarlyStart(inputs, _launch_fork_server(log) if kernels == "fork" else None)


def _launch_fork_server(log: Callable[..., Any]) -> ForkServer | None:
    from nao_analysis.kernels import ForkServer

    try:
        return ForkServer().start()
    except OSError as exc:
        log(f"kernel fork server unavailable ({exc}); starting a fresh kernel per notebook instead")
        return None
