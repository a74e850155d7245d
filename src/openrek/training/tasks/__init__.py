"""Task families, one module each, behind one interface (`base.TaskFamily`): `family_for(task)`.

`image_level` serves classification and multi-label, `detection` object localisation. The pipeline,
the exporter's callers and the predictor ask the family instead of branching on the task.
"""

from __future__ import annotations

from openrek.training.tasks.base import Evaluation, FitSettings, Fitted, TaskFamily
from openrek.training.tasks.detection import DETECTION, DetectionFamily
from openrek.training.tasks.image_level import CLASSIFICATION, MULTI_LABEL, ImageLevelFamily

_FAMILIES: dict[str, TaskFamily] = {}
for _family in (ImageLevelFamily(), DetectionFamily()):
    for _task in _family.tasks:
        _FAMILIES[_task] = _family


def family_for(task: str) -> TaskFamily:
    """The family that trains, evaluates and decodes `task` ("classification", "multi_label", "detection")."""
    try:
        return _FAMILIES[task]
    except KeyError:
        raise ValueError(f"no task family for {task!r}") from None


__all__ = ["CLASSIFICATION", "DETECTION", "MULTI_LABEL", "Evaluation", "FitSettings", "Fitted", "TaskFamily",
           "family_for"]
