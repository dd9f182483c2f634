"""kgen.rest.aio: the async REST client (needs ``kgen[async]``, i.e. aiohttp).

:class:`AsyncRESTClient` is built from the same :class:`~kgen.rest.Config` as the sync
:class:`~kgen.rest.RESTClient` and runs the same rules (they are shared sans-I/O code: request
building, retries, throttling arithmetic, warnings, errors, watch decoding)::

    async with AsyncRESTClient(config) as client:
        pod = (
            await client.get().group_version("", "v1").namespace("default").resource("pods")
            .name("web").do()
        ).into(Pod)
        async with await client.get().group_version("", "v1").resource("pods").watch(Pod) as w:
            async for event in w:
                ...

Why aiohttp (not httpx): measured in ``bench/bench_async_http.py``, see ``docs/async.md``.
"""

from kgen.rest.aio._client import AsyncRESTClient
from kgen.rest.aio._connector import Connector, ConnectorFactory
from kgen.rest.aio._request import AsyncRequest
from kgen.rest.aio._stream import AsyncBodyStream
from kgen.rest.aio._watch import AsyncWatch

__all__ = [
    "AsyncBodyStream",
    "AsyncRESTClient",
    "AsyncRequest",
    "AsyncWatch",
    "Connector",
    "ConnectorFactory",
]
