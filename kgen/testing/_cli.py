"""``kgen testserver``: run the test API server from the command line for kubectl and friends.

It loads the given documents, serves until Ctrl-C (or SIGTERM), prints the address and writes a
kubeconfig. Over plain HTTP kubectl sends no credentials, so the server then admits anonymous
requests; with ``--tls-cert``/``--tls-key`` (or ``--self-signed-tls``, certificates made by
:mod:`kgen.cert`) it requires the printed token. The namespace controller and the garbage
collector (:mod:`kgen.testing.controllers`) run unless ``--no-controllers`` asks for a bare
store. ``--forward web:80=127.0.0.1:8000`` says what answers a pod's port for port-forward
(``kubectl port-forward web 8080:80`` then reaches the server at 127.0.0.1:8000).
``--kubelet local`` runs each pod's containers as local processes
(:mod:`kgen.testing._localruntime`): ``kubectl logs``, ``exec``, ``attach`` and
``port-forward`` then reach real processes.

Bad options end before anything is loaded or written: a ``--kubeconfig-out`` whose folder is
missing or not writable, a ``--tls-cert``/``--tls-key`` OpenSSL refuses (the bad file is named
with the reason). SIGINT and SIGTERM stop it at any point, also while the documents load; it
then joins every thread it started and exits 0, as a server that shut down cleanly does.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click

from kgen.spec import SpecError
from kgen.testing._server import APIServer
from kgen.testing._tls import ServingPairError, self_signed_pair, serving_context

__all__ = ["testserver"]


@click.command("testserver")
@click.option(
    "--spec",
    "specs",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A swagger.json, a folder of OpenAPI v3 documents, or a CRD manifest (repeatable).",
)
@click.option(
    "--discovery",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Discovery documents adding short names and categories (repeatable).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one).",
)
@click.option(
    "--kubeconfig-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a kubeconfig for this server here.",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve HTTPS with this certificate (PEM).",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The certificate's private key (PEM).",
)
@click.option(
    "--ca",
    "ca_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CA certificate clients should trust (goes into the kubeconfig).",
)
@click.option(
    "--self-signed-tls",
    is_flag=True,
    help="Serve HTTPS with a new CA and a serving certificate for --host, localhost and "
    "127.0.0.1 (the CA goes into the kubeconfig).",
)
@click.option(
    "--token",
    default="kgen-testing-token",
    show_default=True,
    help="Bearer token the server accepts.",
)
@click.option(
    "--no-controllers",
    is_flag=True,
    help="Run no controllers: deleting a namespace or an owner removes what it holds at once, "
    "and namespaces get no default ServiceAccount or kube-root-ca.crt.",
)
@click.option(
    "--forward",
    "forwards",
    multiple=True,
    metavar="[NS/]POD:PORT=HOST:PORT",
    help="Port-forwarded connections to PORT of POD (* for any pod) go to HOST:PORT "
    "(repeatable).",
)
@click.option(
    "--kubelet",
    type=click.Choice(["handlers", "local"]),
    default="handlers",
    show_default=True,
    help="What runs pods' containers: nothing (handlers registered in Python answer exec, "
    "logs and ports) or local processes (each container's command and args run on this "
    "machine; the image is ignored).",
)
def testserver(
    specs: tuple[Path, ...],
    discovery: tuple[Path, ...],
    host: str,
    port: int,
    kubeconfig_out: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    ca_file: Path | None,
    self_signed_tls: bool,
    token: str,
    no_controllers: bool,
    forwards: tuple[str, ...],
    kubelet: str,
) -> None:
    """Serve an in-process Kubernetes API server built from API documents until Ctrl-C."""
    targets = [_forward(text) for text in forwards]
    if kubeconfig_out is not None:
        _check_writable(kubeconfig_out)
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    tls = (tls_cert.read_bytes(), tls_key.read_bytes()) if tls_cert and tls_key else None
    ca_pem = ca_file.read_bytes() if ca_file else None
    if self_signed_tls:
        if tls or ca_pem:
            raise click.UsageError(
                "--self-signed-tls makes its own certificate: leave out --tls-cert, --tls-key "
                "and --ca"
            )
        tls, ca_pem = self_signed_pair(host)
    elif tls is not None and tls_cert is not None and tls_key is not None:
        try:
            serving_context(*tls)
        except ServingPairError as err:
            option, path = (
                ("--tls-cert", tls_cert) if err.part == "certificate" else ("--tls-key", tls_key)
            )
            raise click.BadParameter(f"{path}: {err.reason}", param_hint=f"'{option}'") from None
    with _stopped_by_signals():
        try:
            server = APIServer(
                specs=list(specs),
                discovery=list(discovery),
                host=host,
                port=port,
                tls=tls,
                ca_pem=ca_pem,
                token=token,
                allow_anonymous=tls is None,
                controllers=not no_controllers,
                kubelet=kubelet,
            )
        except SpecError as err:
            raise click.ClickException(str(err)) from None
        except ValueError as err:  # --kubelet local with --no-controllers
            raise click.UsageError(str(err)) from None
        for namespace, pod, pod_port, to in targets:
            server.containers.forward(namespace=namespace, pod=pod, port=pod_port, to=to)
        try:
            try:
                server.start()
            except OSError as err:
                raise click.ClickException(
                    f"cannot listen on {host}:{port}: {err.strerror or err}"
                ) from None
            _serve(server, token, tls is not None, kubeconfig_out)
        finally:
            signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)  # a second Ctrl-C waits
            try:
                server.stop()
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    click.echo("stopped")


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Stop(BaseException):
    """Raised in the main thread by SIGINT or SIGTERM; ends the command wherever it is."""


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`_Stop` for the block's duration (the handlers
    before are restored after); a stop is a clean exit, not an error."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    previous = {sig: signal.signal(sig, stop) for sig in _STOP_SIGNALS}
    try:
        yield
    except _Stop:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(server: APIServer, token: str, tls: bool, kubeconfig_out: Path | None) -> None:
    """Print the address (and write the kubeconfig), then block until a signal stops it."""
    click.echo(f"kgen test API server listening on {server.url}")
    click.echo(f"token: {token}" + ("" if tls else " (plain HTTP: anonymous requests allowed)"))
    if kubeconfig_out is not None:
        try:
            server.write_kubeconfig(kubeconfig_out)
        except OSError as err:
            raise click.ClickException(
                f"cannot write the kubeconfig {kubeconfig_out}: {err.strerror or err}"
            ) from None
        click.echo(
            f"kubeconfig written to {kubeconfig_out} (use: KUBECONFIG={kubeconfig_out} kubectl get ns)"
        )
    click.echo("press Ctrl-C to stop")
    while True:
        signal.pause()  # returns after any handled signal; _Stop ends the loop


def _check_writable(path: Path) -> None:
    """A usage error unless ``path`` can be written: its folder exists and is writable."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        problem = f"{path}: the folder {folder} {what}"
    elif not os.access(folder, os.W_OK | os.X_OK):
        problem = f"{path}: the folder {folder} is not writable"
    else:
        return
    raise click.BadParameter(problem, param_hint="'--kubeconfig-out'")


def _forward(text: str) -> tuple[str | None, str | None, int, tuple[str, int]]:
    """``(namespace, pod, port, (host, port))`` of one ``--forward``; a usage error naming
    what is wrong otherwise."""
    where, _, to = text.partition("=")
    target, _, port_text = where.rpartition(":")
    host, _, to_port = to.rpartition(":")
    namespace, _, pod = target.rpartition("/")
    if not (target and host and port_text.isdigit() and to_port.isdigit()):
        raise click.UsageError(f"--forward {text!r}: expected [NS/]POD:PORT=HOST:PORT")
    if not (0 < int(port_text) < 65536 and 0 < int(to_port) < 65536):
        raise click.UsageError(f"--forward {text!r}: ports are 1-65535")
    return namespace or None, None if pod == "*" else pod, int(port_text), (host, int(to_port))
