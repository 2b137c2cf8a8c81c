"""The chart tests' one fixture: the `helm` binary (a test that renders the chart asks for it, so a missing helm
fails there saying what to do)."""

from __future__ import annotations

import pytest

from tests.support.helm import helm_binary


@pytest.fixture(scope="session")
def helm() -> str:
    return helm_binary()
