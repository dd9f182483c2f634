"""Testing support: an in-process Kubernetes API server with real semantics, and fakes.

* :class:`APIServer`: real HTTP(S) on loopback, driven by OpenAPI documents and CRDs. One line
  in a pytest fixture::

      @pytest.fixture
      def cluster():
          with APIServer(specs=["openapi-v3/", "my-crds.yaml"]) as server:
              yield server  # server.url, server.token, server.write_kubeconfig(path)

  ``server.faults`` injects faults (:class:`Faults`), ``server.compact()`` expires history,
  ``server.tracker`` reaches the objects directly, ``server.requests`` lists what was asked,
  ``server.containers`` says what exec and attach run (:class:`ContainerProcess`), holds
  the containers' logs (:class:`ContainerLog`) and says what answers a port-forwarded port
  (:class:`PortConnection`).
  CRDs with several versions are stored in their storage version and served in every version;
  ``server.on_convert(crd, convert)`` / ``server.on_conversion_review(crd, handle)`` stand in
  for a ``Webhook`` CRD's conversion webhook (see ``kgen/testing/_conversion.py``).
* :class:`ObjectTracker`: the same object semantics called in-process on JSON dicts.
* :class:`Fake` / :class:`FakeTransport`: a ``requests`` adapter that serves a session from the
  same request handler without sockets, with client-go style reactors and recorded actions;
  :class:`FakeClientsetBase` is what a generated ``<package>.fake.FakeClientset`` is built on.
  The asyncio twins (an aiohttp connector serving a ``Fake`` in-process, the async fake
  clientset's base) are in :mod:`kgen.testing.aio` (needs aiohttp).
* ``APIServer(controllers=True)``: the namespace controller and the garbage collector
  (:mod:`kgen.testing.controllers`) run with the server; ``kgen testserver`` runs them unless
  ``--no-controllers``.
* ``kgen testserver --spec PATH``: the same server from the command line, for kubectl.
"""

from kgen.testing._auth import Rule, User
from kgen.testing._containers import ContainerHandlers, ContainerProcess, Input, Sink
from kgen.testing._errors import APIError
from kgen.testing._fake import Action, Fake, FakeTransport, Reactor
from kgen.testing._fake_clientset import FakeClientsetBase, FakeShortcuts
from kgen.testing._faults import Fault, Faults
from kgen.testing._logs import ContainerLog
from kgen.testing._options import ListOptions, WriteOptions
from kgen.testing._ports import PortConnection
from kgen.testing._server import APIServer
from kgen.testing._tls import ServingPairError
from kgen.testing._tracker import ObjectTracker
from kgen.testing._watch import WatchStream

__all__ = [
    "APIError",
    "APIServer",
    "Action",
    "ContainerHandlers",
    "ContainerLog",
    "ContainerProcess",
    "Fake",
    "FakeClientsetBase",
    "FakeShortcuts",
    "FakeTransport",
    "Fault",
    "Faults",
    "Input",
    "ListOptions",
    "ObjectTracker",
    "PortConnection",
    "Reactor",
    "Rule",
    "ServingPairError",
    "Sink",
    "User",
    "WatchStream",
    "WriteOptions",
]
