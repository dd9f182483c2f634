"""Leader election over ``coordination.k8s.io/v1`` Leases, as Kubernetes controllers do it.

::

    lock = RESTLeaseLock(client, "kube-system", "my-controller", identity=hostname)
    elector = LeaderElector(LeaderElectionConfig(
        lock=lock,
        callbacks=LeaderCallbacks(on_started_leading=work, on_stopped_leading=cleanup),
        release_on_cancel=True,
    ))
    elector.run()      # blocks; elector.stop() from another thread ends it

See :class:`LeaderElector` for the algorithm and :class:`LeaseLock` for how the lock talks to
the API (any object with its methods will do, e.g. an in-memory lock in tests).
"""

from kgen.leaderelection._elector import (
    JITTER_FACTOR,
    LeaderCallbacks,
    LeaderElectionConfig,
    LeaderElector,
)
from kgen.leaderelection._lock import LeaseLock, RESTLeaseLock
from kgen.leaderelection._types import LeaderElectionRecord, Lease, LeaseSpec

__all__ = [
    "JITTER_FACTOR",
    "LeaderCallbacks",
    "LeaderElectionConfig",
    "LeaderElectionRecord",
    "LeaderElector",
    "Lease",
    "LeaseLock",
    "LeaseSpec",
    "RESTLeaseLock",
]
