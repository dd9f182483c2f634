from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from client.apiserver import running_api
from client.wire import no_leaked_threads  # noqa: F401 - autouse fixture

from kgen.rest import RESTClient
from kgen.testing import APIServer


@pytest.fixture
def api(specs_dir: Path) -> Iterator[tuple[APIServer, RESTClient]]:
    with running_api(specs_dir) as pair:
        yield pair
