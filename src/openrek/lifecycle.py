"""The lifecycles of project versions and datasets: statuses, allowed transitions, status messages.

One place for what AWS's `ProjectVersionStatus` / `DatasetStatus` mean here. The service, the job
runner and the model host all move resources through `sources(target)`; nothing else spells a status.
"""

from __future__ import annotations

from enum import StrEnum


class VersionStatus(StrEnum):
    TRAINING_IN_PROGRESS = "TRAINING_IN_PROGRESS"
    TRAINING_COMPLETED = "TRAINING_COMPLETED"
    TRAINING_FAILED = "TRAINING_FAILED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    FAILED = "FAILED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    DELETING = "DELETING"
    COPYING_IN_PROGRESS = "COPYING_IN_PROGRESS"
    COPYING_COMPLETED = "COPYING_COMPLETED"
    COPYING_FAILED = "COPYING_FAILED"
    DEPRECATED = "DEPRECATED"
    EXPIRED = "EXPIRED"


class DatasetStatus(StrEnum):
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    CREATE_FAILED = "CREATE_FAILED"
    UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    UPDATE_FAILED = "UPDATE_FAILED"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"


class DatasetStatusCode(StrEnum):
    SUCCESS = "SUCCESS"
    SERVICE_ERROR = "SERVICE_ERROR"  # our fault: try again
    CLIENT_ERROR = "CLIENT_ERROR"  # the input's fault: the message says what to fix


V = VersionStatus
D = DatasetStatus

# target status -> the statuses a resource may move there from.
_VERSION_SOURCES: dict[VersionStatus, frozenset[VersionStatus]] = {
    V.TRAINING_COMPLETED: frozenset({V.TRAINING_IN_PROGRESS}),
    V.TRAINING_FAILED: frozenset({V.TRAINING_IN_PROGRESS}),
    V.COPYING_COMPLETED: frozenset({V.COPYING_IN_PROGRESS}),
    V.COPYING_FAILED: frozenset({V.COPYING_IN_PROGRESS}),
    V.STARTING: frozenset({V.TRAINING_COMPLETED, V.COPYING_COMPLETED, V.STOPPED, V.FAILED, V.RUNNING}),
    V.RUNNING: frozenset({V.STARTING}),
    V.FAILED: frozenset({V.STARTING, V.RUNNING}),
    V.STOPPING: frozenset({V.RUNNING, V.STARTING}),
    V.STOPPED: frozenset({V.STOPPING, V.STARTING, V.RUNNING}),
}
_DATASET_SOURCES: dict[DatasetStatus, frozenset[DatasetStatus]] = {
    D.CREATE_COMPLETE: frozenset({D.CREATE_IN_PROGRESS}),
    D.CREATE_FAILED: frozenset({D.CREATE_IN_PROGRESS}),
    D.UPDATE_IN_PROGRESS: frozenset({D.CREATE_COMPLETE, D.UPDATE_COMPLETE, D.UPDATE_FAILED}),
    D.UPDATE_COMPLETE: frozenset({D.UPDATE_IN_PROGRESS}),
    D.UPDATE_FAILED: frozenset({D.UPDATE_IN_PROGRESS}),
}

# A version that holds a servable model, and may be started (STARTING is entered from these).
STARTABLE: frozenset[VersionStatus] = frozenset({V.TRAINING_COMPLETED, V.COPYING_COMPLETED, V.STOPPED, V.FAILED})
# A version in one of these cannot be deleted (or copied) until it settles.
VERSION_BUSY: frozenset[VersionStatus] = frozenset(
    {V.TRAINING_IN_PROGRESS, V.STARTING, V.RUNNING, V.STOPPING, V.COPYING_IN_PROGRESS})
# A dataset whose entries can be read, trained on, updated or distributed.
DATASET_READY: frozenset[DatasetStatus] = frozenset({D.CREATE_COMPLETE, D.UPDATE_COMPLETE})
# A dataset with a job in flight: no second change may start.
DATASET_BUSY: frozenset[DatasetStatus] = frozenset({D.CREATE_IN_PROGRESS, D.UPDATE_IN_PROGRESS,
                                                    D.DELETE_IN_PROGRESS})

VERSION_MESSAGES: dict[VersionStatus, str] = {
    V.TRAINING_IN_PROGRESS: "The model is being trained.",
    V.TRAINING_COMPLETED: "The model is ready to run.",
    V.STARTING: "The model is starting.",
    V.RUNNING: "The model is running.",
    V.STOPPING: "The model is stopping.",
    V.STOPPED: "The model is stopped.",
    V.COPYING_IN_PROGRESS: "The model is being copied.",
    V.COPYING_COMPLETED: "The model is ready to run.",
}
DATASET_MESSAGES: dict[DatasetStatus, str] = {
    D.CREATE_IN_PROGRESS: "The dataset is being created.",
    D.CREATE_COMPLETE: "The dataset was created successfully.",
    D.UPDATE_IN_PROGRESS: "The dataset is being updated.",
    D.UPDATE_COMPLETE: "The dataset was updated successfully.",
}


def version_sources(target: VersionStatus) -> list[str]:
    """The statuses a version may move to `target` from (for an atomic compare-and-set)."""
    return sorted(_VERSION_SOURCES[target])


def dataset_sources(target: DatasetStatus) -> list[str]:
    """The statuses a dataset may move to `target` from."""
    return sorted(_DATASET_SOURCES[target])


def version_message(status: VersionStatus) -> str:
    return VERSION_MESSAGES[status]


def dataset_message(status: DatasetStatus) -> str:
    return DATASET_MESSAGES[status]
