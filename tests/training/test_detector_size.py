"""The detector's input side is chosen from the training boxes: small boxes get a larger input."""

from __future__ import annotations

from PIL import Image

from openrek.manifests.types import Box
from openrek.training.data import Example
from openrek.training.detector import DetectorConfig, choose_image_size

WIDE = DetectorConfig(size_range=(320, 640))


def _examples(box_side: int, image_side: int = 1000, count: int = 4) -> list[Example]:
    image = Image.new("RGB", (image_side, image_side // 2))
    boxes = [Box("a", 10 + 3 * k, 10, box_side, box_side) for k in range(count)]
    return [Example(image, [], boxes)]


def test_large_boxes_keep_the_smallest_input() -> None:
    assert choose_image_size(_examples(300), ["a"], WIDE) == (320, 0.3)


def test_small_boxes_get_the_side_at_which_they_span_the_smallest_box_pixels() -> None:
    # 30 px wide in a 1000 px wide image: 3 % of its side; 16 px needs 533 px, rounded up to 544.
    size, quantile = choose_image_size(_examples(30), ["a"], WIDE)
    assert (size, quantile) == (544, 0.03)
    # Each side is a share of the same side of the image: 30 px of a 500 × 250 image is 6 % of its width.
    assert choose_image_size(_examples(30, 500), ["a"], WIDE) == (320, 0.06)
    flat = [Example(Image.new("RGB", (1000, 500)), [], [Box("a", 0, 0, 100, 10)])]  # 10 % wide, 2 % tall
    assert choose_image_size(flat, ["a"], WIDE) == (640, 0.02)


def test_by_default_the_input_stays_320_whatever_the_boxes() -> None:
    assert choose_image_size(_examples(5), ["a"], DetectorConfig())[0] == 320


def test_the_choice_stays_within_the_range_and_ignores_unknown_labels() -> None:
    cfg = DetectorConfig(size_range=(320, 480))
    assert choose_image_size(_examples(5), ["a"], cfg)[0] == 480
    assert choose_image_size(_examples(5), ["b"], cfg) == (320, None)  # no box of a known label
    assert choose_image_size([], ["a"], cfg) == (320, None)
