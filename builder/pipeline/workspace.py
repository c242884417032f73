"""The on-disk layout shared by the pipeline's steps.

In the build pod each step is a separate container sharing one emptyDir, so
everything a later step needs is written here, never kept in memory.  Locally
the same layout lives in a temporary directory.
"""

from __future__ import annotations

from pathlib import Path

from builder.record import Record


class Workspace(Record):
    root: Path

    @property
    def source(self) -> Path:
        """The checkout (or extracted binary input), whole."""
        return self.root / "source"

    @property
    def context(self) -> Path:
        """S2I build context: ``upload/src`` and ``upload/scripts``."""
        return self.root / "context"

    @property
    def source_info(self) -> Path:
        return self.root / "source-info.json"

    @property
    def staged(self) -> Path:
        """What ``prepare`` took from the tree (``builder.pipeline.steps.Staged``)."""
        return self.root / "staged.json"

    @property
    def prepared(self) -> Path:
        return self.root / "prepared.json"

    @property
    def built(self) -> Path:
        """The image id ``build_image`` committed (``builder.pipeline.steps.Built``)."""
        return self.root / "built.json"

    def create(self) -> Workspace:
        self.root.mkdir(parents=True, exist_ok=True)
        return self
