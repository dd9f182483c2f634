from __future__ import annotations

from client.wire import no_leaked_threads  # noqa: F401 - autouse fixture
