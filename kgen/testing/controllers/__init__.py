"""The controllers the test server runs: what kube-controller-manager would do to its objects.

``APIServer(controllers=True)`` (the default of ``kgen testserver``) runs them on threads of
its own, started and joined with the server; each acts only through the tracker's public
operations, as a real controller acts only through the API, and reacts to the store's events:

* :class:`NamespaceController` (``namespace``): deleting a namespace empties it, then removes
  it; every active namespace gets a ``default`` ServiceAccount and the ``kube-root-ca.crt``
  ConfigMap.
* :class:`GarbageCollector` (``garbage_collector``): dependents follow their owners by
  ownerReferences, in the background, in the foreground, or orphaned.
* :class:`Scheduler` (``scheduler``): pending pods are bound to a Ready node that fits them.
* :class:`Kubelet` (``kubelet``): the nodes register and stay Ready; the pods bound to them run
  (Pending, then Running with container statuses and conditions, ready as their readiness
  probes answer) and go when their grace period after a delete is over; with
  ``APIServer(kubelet="local")`` their containers run as local processes.
* :class:`EndpointSliceController` (``endpointslice``) and :class:`EndpointsController`
  (``endpoints``): each Service with a selector has the EndpointSlices and the Endpoints of the
  pods it selects, by readiness, with their ports resolved.
* :class:`ReplicaSetController` (``replicaset``): each ReplicaSet keeps ``spec.replicas`` pods
  made from its template, adopting and releasing by its selector, with its status.
* :class:`DeploymentController` (``deployment``): each Deployment gets a ReplicaSet per pod
  template, rolled out by its strategy (RollingUpdate or Recreate), with revisions, history
  cleanup, scaling, pausing and its status conditions.
* :class:`StatefulSetController` (``statefulset``): pods ``<set>-0`` … in order, rolled by
  revision (ControllerRevisions), with their status.
* :class:`DaemonSetController` (``daemonset``): one pod on every node that should run it,
  rolled by revision, with its status.
* :class:`JobController` (``job``): pods run to completion, counted against ``completions``,
  ``parallelism`` and ``backoffLimit``, with the Complete/Failed conditions.
* :class:`CronJobController` (``cronjob``): Jobs on schedule (cron text, time zones), by
  ``concurrencyPolicy``, with ``status.active``, the last schedule and success times, and the
  history limits; on the server's clock.

:class:`ControllerRunner` (``_runner``) is the loop they share; a :class:`Controller` is anything
with ``name``, ``observe``, ``initial`` and ``sync``.
"""

from kgen.testing.controllers._runner import Controller, ControllerRunner
from kgen.testing.controllers.cronjob import CronJobController
from kgen.testing.controllers.daemonset import DaemonSetController
from kgen.testing.controllers.deployment import DeploymentController
from kgen.testing.controllers.endpoints import EndpointsController
from kgen.testing.controllers.endpointslice import EndpointSliceController
from kgen.testing.controllers.garbage_collector import GarbageCollector
from kgen.testing.controllers.job import JobController
from kgen.testing.controllers.kubelet import DEFAULT_NODES, Kubelet
from kgen.testing.controllers.namespace import ROOT_CA_CONFIGMAP, NamespaceController
from kgen.testing.controllers.replicaset import ReplicaSetController
from kgen.testing.controllers.scheduler import Scheduler
from kgen.testing.controllers.statefulset import StatefulSetController

__all__ = [
    "DEFAULT_NODES",
    "ROOT_CA_CONFIGMAP",
    "Controller",
    "ControllerRunner",
    "CronJobController",
    "DaemonSetController",
    "DeploymentController",
    "EndpointSliceController",
    "EndpointsController",
    "GarbageCollector",
    "JobController",
    "Kubelet",
    "NamespaceController",
    "ReplicaSetController",
    "Scheduler",
    "StatefulSetController",
]
