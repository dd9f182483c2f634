"""Testing support: an in-process Kubernetes API server with real semantics, and fakes.

* :class:`APIServer`: real HTTP(S) on loopback, driven by OpenAPI documents and CRDs::

      with APIServer(specs=["swagger.json"]) as server:
          requests.get(server.url + "/api/v1/namespaces", headers={"Authorization": f"Bearer {server.token}"})

* :class:`ObjectTracker`: the same object semantics called in-process on JSON dicts.
* :class:`Faults`: deterministic fault injection (``server.faults``).
* :class:`Fake` / :class:`FakeTransport`: a ``requests`` adapter that serves a session from the
  same handler without sockets, with client-go style reactors and recorded actions.
"""

from kgen.testing._auth import Rule, User
from kgen.testing._errors import APIError
from kgen.testing._fake import Action, Fake, FakeTransport, Reactor
from kgen.testing._faults import Fault, Faults
from kgen.testing._options import ListOptions, WriteOptions
from kgen.testing._server import APIServer
from kgen.testing._tracker import ObjectTracker
from kgen.testing._watch import WatchStream

__all__ = [
    "APIError",
    "APIServer",
    "Action",
    "Fake",
    "FakeTransport",
    "Fault",
    "Faults",
    "ListOptions",
    "ObjectTracker",
    "Reactor",
    "Rule",
    "User",
    "WatchStream",
    "WriteOptions",
]
