from __future__ import annotations

from pathlib import Path

import pytest
from client.wire import no_leaked_threads  # noqa: F401 - autouse fixture

from .served import DiscoveryDocuments


@pytest.fixture
def documents(specs_dir: Path) -> DiscoveryDocuments:
    """The real discovery documents, ready to be served (and edited by the test first)."""
    return DiscoveryDocuments.real(specs_dir)
