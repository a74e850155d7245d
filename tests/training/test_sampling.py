"""Class-balanced passes: images of rare labels are repeated, reproducibly; common ones are seen once."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from openrek.manifests.types import Box
from openrek.training.data import Example
from openrek.training.sampling import epoch_order, repeat_factors


def _image(*labels: str) -> Example:
    return Example(Image.new("RGB", (8, 8)), [], [Box(name, 0, 0, 4, 4) for name in labels])


def test_an_image_is_repeated_by_its_rarest_label() -> None:
    # "common" is in 9 of 10 images, "rare" in 1, "other" is not a label being trained.
    examples = [_image("common") for _ in range(8)] + [_image("common", "rare"), _image("other")]
    factors = repeat_factors(examples, ["common", "rare"], threshold=0.4)
    assert factors[:8].tolist() == [1.0] * 8  # 90 % hold it: above the 40 % wanted
    assert math.isclose(factors[8], math.sqrt(0.4 / 0.1))  # 2 passes in one
    assert factors[9] == 1.0  # no box of a known label


def test_a_pass_visits_each_image_its_factor_times_and_the_same_seed_gives_the_same_order() -> None:
    factors = np.array([1.0, 3.0, 1.5])
    orders = [epoch_order(np.random.default_rng(7), factors) for _ in range(2)]
    assert orders[0].tolist() == orders[1].tolist()
    counts = np.bincount(orders[0], minlength=3)
    assert counts[0] == 1 and counts[1] == 3 and counts[2] in (1, 2)
    many = np.concatenate([epoch_order(np.random.default_rng(s), factors) for s in range(400)])
    assert abs(np.bincount(many)[2] / 400 - 1.5) < 0.1  # the fractional part, drawn
