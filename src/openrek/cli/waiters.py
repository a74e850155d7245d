"""``openrek rekognition wait <waiter>``: botocore's waiter, with live progress on a terminal.

The polling, acceptors, delays and failure messages are botocore's (as with AWS CLI v1, which
prints nothing). When stderr is a TTY, a ``rich`` spinner shows the waiter, the current status,
the attempt and the elapsed time; piped or redirected, nothing extra is printed.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from openrek.cli.model import ServiceModel
from openrek.cli.naming import kebab


def _statuses(response: Any, paths: list[str]) -> str:
    import jmespath

    seen: list[str] = []
    for path in paths:
        try:
            found = jmespath.search(path, response)
        except Exception:
            continue
        for value in found if isinstance(found, list) else [found]:
            if value is not None and str(value) not in seen:
                seen.append(str(value))
    if isinstance(response, dict) and "Error" in response:
        seen.append(str(response["Error"].get("Code", "error")))
    return ", ".join(seen) or "-"


def _progress_enabled() -> bool:
    if os.environ.get("OPENREK_NO_PROGRESS"):
        return False
    try:
        return sys.stderr.isatty()
    except Exception:
        return False


def wait(client: Any, model: ServiceModel, waiter_name: str, params: dict[str, Any]) -> None:
    """Block until the waiter succeeds; raises botocore's ``WaiterError`` when it fails."""
    from botocore import waiter as bw

    config = bw.WaiterModel({"version": 2, "waiters": model.waiters}).get_waiter(waiter_name)
    method = bw.NormalizedOperationMethod(getattr(client, kebab(config.operation, "_")))
    paths = [a.argument for a in config.acceptors if a.matcher in ("path", "pathAll", "pathAny") and a.argument]
    if not _progress_enabled():
        bw.Waiter(waiter_name, config, method).wait(**params)
        return

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[waiter]}[/bold]"),
        TextColumn("status [cyan]{task.fields[status]}[/cyan]"),
        TextColumn("attempt {task.completed:.0f}/{task.total:.0f}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(
            "wait", total=config.max_attempts, waiter=kebab(waiter_name), status="polling…"
        )

        def polled(**kwargs: Any) -> Any:
            response = method(**kwargs)
            progress.update(task, advance=1, status=_statuses(response, paths))
            return response

        bw.Waiter(waiter_name, config, polled).wait(**params)
