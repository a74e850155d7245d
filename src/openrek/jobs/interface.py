"""The job-runner interface the composition root wires in: start, stop, and wake on new work.

Jobs live in the database (`MetadataStore` queues and claims them), so a runner holds no job state of
its own: `wake` only says "look at the queue now". The local process pool (`runner.LocalJobRunner`)
is the embedded default.
"""

from __future__ import annotations

from typing import Protocol


class JobRunner(Protocol):
    def start(self) -> None:
        """Recover jobs an earlier run left in progress, then begin claiming queued ones."""
        ...

    def stop(self) -> None:
        """Stop claiming; jobs in flight are recovered by the next start."""
        ...

    def wake(self) -> None:
        """New work was queued: claim it without waiting for the next poll."""
        ...
