"""``AsyncFakeClientsetBase``: the async twin of :class:`kgen.testing.FakeClientsetBase`, the
runtime half of a generated ``<package>.aio.fake.AsyncFakeClientset``."""

from __future__ import annotations

from collections.abc import Iterable

from kgen.client.aio import AsyncClientsetBase
from kgen.rest import Config
from kgen.spec.model import APIModel
from kgen.testing._fake import Fake
from kgen.testing._fake_clientset import FakeShortcuts, seeded_fake
from kgen.testing.aio._connector import FakeConnector

__all__ = ["AsyncFakeClientsetBase"]


class AsyncFakeClientsetBase(FakeShortcuts, AsyncClientsetBase):
    """An async clientset whose requests are served in-process by a new
    :class:`~kgen.testing.Fake` of ``model`` holding ``objects``, through a
    :class:`FakeConnector` (a socket pair and a thread per connection, no listening port).

    ``async with`` it (or ``await cs.close()``): leaving stops running watches, closes every
    connection and waits for every connection thread. Use it from one event loop; the
    shortcuts (``actions``, ``add_reactor``...) are thread-safe, and reactors run on the
    connection threads (not the loop's)."""

    def __init__(self, model: APIModel, objects: Iterable[object] = ()) -> None:
        self.fake = seeded_fake(model, objects)
        super().__init__(
            Config(host=Fake.url, qps=-1), connector_factory=FakeConnector.factory(self.fake)
        )
