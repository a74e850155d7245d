"""The interface every task family implements, and what passes between the pipeline and a family.

A family fits a model on the training examples only (`fit` has no test parameter: the test set cannot
influence a choice), exports it to ONNX, evaluates the exported model on the test set as AWS reports
it, and decodes the model's outputs into DetectCustomLabels' `CustomLabels`. Modules of a family import
torch only inside `fit` and `export`, so serving (which only decodes) never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from openrek.training.data import Budget, Example
from openrek.training.metrics import LabelMetrics

if TYPE_CHECKING:
    from openrek.training.inference import Predictor


@dataclass
class FitSettings:
    """What a family's `fit` may know besides the training examples."""

    labels: list[str]
    options: Any  # the pipeline's options (image sizes, backbones, detector knobs, device)
    seed: int
    budget: Budget
    progress: Callable[[str], None]


@dataclass
class Fitted:
    """A fitted model: its torch module (exported next), its input contract and the facts of training
    (candidate chosen, validation scores, steps, whether the time budget cut it short)."""

    module: Any
    image_size: int
    normalized_input: bool
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evaluation:
    """The evaluation of the exported model on the test set, as the output files need it."""

    label_metrics: list[LabelMetrics]
    aggregated: dict[str, float]
    thresholds: dict[str, float]
    snapshot: list[dict[str, Any]]
    confusion: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class TaskFamily(Protocol):
    """One task family (image-level or detection)."""

    tasks: tuple[str, ...]

    def fit(self, task: str, train: Sequence[Example], settings: FitSettings) -> Fitted: ...

    def export(self, fitted: Fitted) -> bytes: ...

    def check_export(self, fitted: Fitted, onnx_bytes: bytes) -> dict[str, Any]: ...

    def evaluate(self, task: str, predictor: Predictor, test: Sequence[Example], labels: list[str]) -> Evaluation:
        ...

    def decode(self, outputs: Sequence[np.ndarray], labels: Sequence[str],
               passes: Callable[[str, float], bool]) -> list[dict[str, Any]]: ...
