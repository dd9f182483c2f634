"""kgen.dynamic: any resource, addressed by name at run time, as plain JSON dicts.

``DynamicClient(rest).resource(gvr).namespace("default").get("web")`` returns the object as
the server sent it (a ``dict``); a list keeps its ``apiVersion``, ``kind`` and ``metadata``
(``resourceVersion``, ``continue``) next to ``items``. Every verb is
:class:`kgen.client.ResourceClient`'s, so the dynamic and typed clients put the same requests
on the wire. The asyncio twin is :class:`kgen.dynamic.aio.AsyncDynamicClient` (imported from
its own module, so that ``kgen.dynamic`` does not need aiohttp).
"""

from kgen.dynamic._client import DynamicClient, DynamicResourceClient, Unstructured

__all__ = ["DynamicClient", "DynamicResourceClient", "Unstructured"]
