"""papermill's nbclient engine, writing the executed notebook when execution starts and when it ends.

papermill writes the whole notebook (validated against the notebook schema, charts and all) before and
after every cell, so that someone watching a long run can open it mid-way. A build watches nothing: it
reads the notebook once, when the run is over. Those writes cost a figure's notebook about 0.1 s of CPU
each, taken from the two cores the figures themselves share.

Nothing a build reads is lost: papermill ends every run, finished or failed (an error in a cell, a cell
timeout, a kernel that died), through :meth:`NotebookExecutionManager.notebook_complete`, which writes the
notebook with every output received so far. Only a build process killed outright loses the partial
notebook, and then its staging folder is removed as a leftover by the next build anyway.
"""

from __future__ import annotations

from typing import Any

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

ENGINE_NAME = "nao-analysis"


class _WritesAtStartAndEnd(NotebookExecutionManager):
    """Writes in :meth:`notebook_start` and :meth:`notebook_complete` only."""

    def save(self, **kwargs: Any) -> None:
        """Called by papermill around every cell: nothing is written mid-run (see the module docstring)."""

    def _write(self) -> None:
        NotebookExecutionManager.save(self)

    def notebook_start(self, **kwargs: Any) -> None:
        super().notebook_start(**kwargs)
        self._write()

    def notebook_complete(self, **kwargs: Any) -> None:
        super().notebook_complete(**kwargs)
        self._write()


class WritesAtStartAndEndEngine(NBClientEngine):
    """:class:`NBClientEngine` with :class:`_WritesAtStartAndEnd` as its execution manager."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False, autosave_cell_every=30, **kwargs):
        manager = _WritesAtStartAndEnd(
            nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output, autosave_cell_every=autosave_cell_every
        )
        manager.notebook_start()
        try:
            cls.execute_managed_notebook(manager, kernel_name, log_output=log_output, **kwargs)
        finally:
            manager.cleanup_pbar()
            manager.notebook_complete()
        return manager.nb


papermill_engines.register(ENGINE_NAME, WritesAtStartAndEndEngine)
