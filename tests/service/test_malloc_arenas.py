"""The server caps glibc's malloc arenas (RSS creep of a threaded server); the environment can lift it."""

from __future__ import annotations

import pytest

from openrek.malloc_arenas import DEFAULT_ARENAS, cap_malloc_arenas


def test_the_cap_applies_on_glibc() -> None:
    assert cap_malloc_arenas() == DEFAULT_ARENAS == 2


@pytest.mark.parametrize("value", ["0", "many"])
def test_the_environment_can_leave_glibcs_default(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OPENREK_MALLOC_ARENAS", value)
    assert cap_malloc_arenas() is None
