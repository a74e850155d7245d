"""When a model's inference units scale: the rule, apart from the actors it moves (pure, clock passed in).

A model runs between `MinInferenceUnits` and `MaxInferenceUnits` replicas (no Max: exactly Min, as on
AWS). Each tick the deployment reports how many requests are in flight. The wanted number of replicas is
in-flight requests / `target_ongoing`, rounded up and kept within [min, max]. Scaling up happens once more
replicas have been wanted for `upscale_after_s` without a break; scaling down, one replica at a time, once
fewer have been wanted for `downscale_after_s` (idle models shrink back to Min, never below).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class ScalingPolicy:
    target_ongoing: float = field(default_factory=lambda: _env_float("OPENREK_SERVING_TARGET_ONGOING", 2.0))
    upscale_after_s: float = field(default_factory=lambda: _env_float("OPENREK_SERVING_UPSCALE_S", 1.0))
    downscale_after_s: float = field(default_factory=lambda: _env_float("OPENREK_SERVING_DOWNSCALE_S", 60.0))

    def __post_init__(self) -> None:
        if self.target_ongoing <= 0 or self.upscale_after_s < 0 or self.downscale_after_s < 0:
            raise ValueError("OPENREK_SERVING_TARGET_ONGOING must be > 0 and the scaling delays >= 0")


@dataclass
class Scaler:
    """Decides, tick by tick, how many replicas a model should have."""

    min_units: int
    max_units: int
    policy: ScalingPolicy
    _more_since: float | None = None
    _fewer_since: float | None = None

    def __post_init__(self) -> None:
        self.max_units = max(self.max_units, self.min_units)

    def wanted(self, ongoing: int) -> int:
        return min(self.max_units, max(self.min_units, math.ceil(ongoing / self.policy.target_ongoing)))

    def decide(self, now: float, current: int, ongoing: int) -> int:
        """The number of replicas to have from now on (`current` when nothing changes)."""
        wanted = self.wanted(ongoing)
        if wanted > current:
            self._fewer_since = None
            self._more_since = now if self._more_since is None else self._more_since
            if now - self._more_since >= self.policy.upscale_after_s:
                self._more_since = None
                return wanted
        elif wanted < current:
            self._more_since = None
            self._fewer_since = now if self._fewer_since is None else self._fewer_since
            if now - self._fewer_since >= self.policy.downscale_after_s:
                self._fewer_since = now  # the next step down waits a full delay again
                return current - 1
        else:
            self._more_since = self._fewer_since = None
        return current
