"""kgen: typed Kubernetes clients for Python.

A code generator (``kgen`` on the command line: clientsets, listers, informers, fake clientsets
and msgspec models from OpenAPI, discovery documents or CRDs) and the client runtime that the
generated code sits on (:mod:`kgen.rest`, :mod:`kgen.config`, :mod:`kgen.cache`,
:mod:`kgen.workqueue`, ...). :mod:`kgen.testing` serves a faithful API server for tests.
"""

from kgen._version import __version__

__all__ = ["__version__"]
