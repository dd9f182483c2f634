"""The verb helpers every REST client has (``get()``, ``post()``, ..., ``verb(method)``), written
once for the sync and the async client, which differ only in the request type they make."""

from __future__ import annotations

from typing import Generic, TypeVar

from kgen.rest._builder import RequestBuilder

__all__ = ["RequestVerbs"]

R = TypeVar("R", bound=RequestBuilder)


class RequestVerbs(Generic[R]):
    """Request factories by HTTP method; a client defines :meth:`verb`."""

    def verb(self, method: str) -> R:
        """A request with any HTTP method."""
        raise NotImplementedError

    def get(self) -> R:
        """A GET request."""
        return self.verb("GET")

    def post(self) -> R:
        """A POST request."""
        return self.verb("POST")

    def put(self) -> R:
        """A PUT request."""
        return self.verb("PUT")

    def delete(self) -> R:
        """A DELETE request."""
        return self.verb("DELETE")

    def patch(self, patch_type: str) -> R:
        """A PATCH request whose ``Content-Type`` is ``patch_type``
        (e.g. ``application/merge-patch+json``, ``application/apply-patch+yaml``)."""
        return self.verb("PATCH").header("Content-Type", str(patch_type))
