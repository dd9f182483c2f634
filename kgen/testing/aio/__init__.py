"""kgen.testing.aio: the asyncio side of kgen.testing's fakes (needs ``kgen[async]``, i.e.
aiohttp).

* :class:`FakeConnector`: an aiohttp connector whose connections are served in-process by a
  :class:`~kgen.testing.Fake` (or a bare handler) with the API server's own HTTP/1.1 request
  handler, on a socket pair and a thread each; no listening port. Give
  ``FakeConnector.factory(fake)`` to :class:`~kgen.rest.aio.AsyncRESTClient` as
  ``connector_factory``::

      fake = Fake(model)
      connect = FakeConnector.factory(fake)
      async with AsyncRESTClient(Config(host=Fake.url), connector_factory=connect) as client:
          ...

* :class:`AsyncFakeClientsetBase`: what a generated ``<package>.aio.fake.AsyncFakeClientset``
  is built on (the twin of :class:`kgen.testing.FakeClientsetBase`).
"""

from kgen.testing.aio._clientset import AsyncFakeClientsetBase
from kgen.testing.aio._connector import FakeConnector

__all__ = ["AsyncFakeClientsetBase", "FakeConnector"]
