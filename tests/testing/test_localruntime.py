"""``APIServer(kubelet="local")``: pods' containers run as local processes; kubectl is the judge
of their logs, exec, attach and port-forward, and no process outlives its pod or the server."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kgen.client import GroupVersionResource, ResourceClient
from kgen.rest import Config, RESTClient, StatusError
from kgen.testing import APIServer

from .test_controllers import eventually
from .test_kubectl import Kubectl, _binary

Objects = ResourceClient[dict[str, Any], dict[str, Any]]
KUBECTL = "1.33"


def _tls_server(specs_dir: Path, **options: Any) -> APIServer:
    return APIServer(
        specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"],
        tls="self-signed",
        controllers=True,
        kubelet="local",
        **options,
    )


@pytest.fixture(scope="module")
def server(specs_dir: Path) -> Iterator[APIServer]:
    with _tls_server(specs_dir, crash_backoff=(0.3, 0.6)) as running:
        yield running


@pytest.fixture(scope="module")
def pods(server: APIServer) -> Iterator[Objects]:
    config = Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem or b"")
    with RESTClient(config) as client:
        yield ResourceClient(client, GroupVersionResource("", "v1", "pods"), dict, dict, "default")


@pytest.fixture
def kubectl(server: APIServer, tmp_path: Path) -> Kubectl:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    return Kubectl(_binary(KUBECTL), kubeconfig, "default", tmp_path / "cache")


def _pod(name: str, *command: str, **spec: Any) -> dict[str, Any]:
    container = {"name": "main", "image": "busybox", "command": list(command)}
    container.update(spec.pop("container", {}))
    return {"metadata": {"name": name}, "spec": {"containers": [container], **spec}}


def _status(pods: Objects, name: str) -> dict[str, Any]:
    return dict(pods.get(name).get("status") or {})


def _main(pods: Objects, name: str) -> dict[str, Any]:
    return dict((_status(pods, name).get("containerStatuses") or [{}])[0])


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not exited (a zombie has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # gone while being read
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_container_that_exits_is_restarted_with_a_growing_back_off(
    pods: Objects, kubectl: Kubectl
) -> None:
    pods.create(_pod("crash", "sh", "-c", "echo hi; sleep 0.2; exit 3"))

    def backing_off() -> dict[str, Any] | None:
        main = _main(pods, "crash")
        waiting = main.get("state", {}).get("waiting", {})
        return main if main.get("restartCount", 0) >= 2 and waiting else None

    main = eventually(backing_off, "CrashLoopBackOff after two restarts")
    waiting = main["state"]["waiting"]
    assert waiting["reason"] == "CrashLoopBackOff"
    assert waiting["message"].startswith(
        "back-off 600ms restarting failed container=main pod=crash_default("  # 300 ms doubled
    )  # from the second restart on: the cap of crash_backoff=(0.3, 0.6)
    assert waiting["message"].endswith(f"({pods.get('crash')['metadata']['uid']})")
    last = main["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (3, "Error")
    assert last["startedAt"] and last["finishedAt"] and main["ready"] is False
    assert _status(pods, "crash")["phase"] == "Running"
    assert kubectl.run("logs", "crash", "--previous").stdout == "hi\n"
    row = kubectl.run("get", "pod", "crash").stdout.splitlines()[1].split()
    assert row[2] in ("CrashLoopBackOff", "Error", "Running")


@pytest.mark.parametrize(
    ("policy", "code", "phase", "reason"),
    [("Never", 3, "Failed", "Error"), ("OnFailure", 0, "Succeeded", "Completed")],
)
def test_restart_policies_let_a_finished_pod_end(
    pods: Objects, kubectl: Kubectl, policy: str, code: int, phase: str, reason: str
) -> None:
    name = f"ends-{policy.lower()}"
    pods.create(
        _pod(name, "sh", "-c", f"echo hi; echo oops >&2; exit {code}", restartPolicy=policy)
    )
    eventually(lambda: _status(pods, name).get("phase") == phase, f"the pod {phase}")
    main = _main(pods, name)
    terminated = main["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (code, reason)
    assert main["restartCount"] == 0 and main["started"] is False
    ready = next(c for c in _status(pods, name)["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")
    assert sorted(kubectl.run("logs", name).stdout.splitlines()) == ["hi", "oops"]


def test_the_environment_has_the_pods_fields_and_command_references(
    pods: Objects, kubectl: Kubectl
) -> None:
    env = [
        {"name": "GREETING", "value": "hello"},
        {"name": "PHRASE", "value": "$(GREETING) world"},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    ]
    script = 'echo "$PHRASE $POD $NS $IP $(GREETING)"; pwd; echo "$HOME"'
    pods.create(_pod("env", "sh", "-c", script, restartPolicy="Never", container={"env": env}))
    eventually(lambda: _status(pods, "env").get("phase") == "Succeeded", "the pod succeeds")
    words, cwd, home = kubectl.run("logs", "env").stdout.splitlines()
    ip = _status(pods, "env")["podIP"]
    assert words == f"hello world env default {ip} hello"
    assert cwd == home and "kgen-default-env-" in cwd
    assert Path(cwd).is_dir()  # the pod has succeeded, and is still there
    kubectl.run("delete", "pod", "env")
    eventually(lambda: not Path(cwd).exists(), "the working directory goes with the pod")


@pytest.mark.kubectl
@pytest.mark.parametrize("version", ["1.29", KUBECTL])  # plain SPDY, then WebSocket
def test_kubectl_exec_runs_a_local_process(
    pods: Objects, server: APIServer, tmp_path: Path, version: str
) -> None:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    kubectl = Kubectl(_binary(version), kubeconfig, "default", tmp_path / "cache")
    name = f"shell-{version.replace('.', '-')}"
    pods.create(_pod(name, "sleep", "1000"))
    eventually(lambda: _main(pods, name).get("ready"), "the container runs")
    done = kubectl.run(
        "exec", name, "--", "sh", "-c", "echo out; echo err >&2; pwd; exit 4", check=False
    )
    assert done.returncode == 4, done.stderr
    out, cwd = done.stdout.splitlines()
    assert out == "out" and cwd.endswith("/main") and "err\n" in done.stderr
    assert kubectl.run("exec", "-i", name, "--", "cat", stdin="one\ntwo\n").stdout == "one\ntwo\n"
    with pytest.raises(StatusError, match="the local runtime has no TTY"):
        pods.exec(name, ["true"], tty=True)


def test_kubectl_logs_follow_reads_the_process_until_it_exits(
    pods: Objects, kubectl: Kubectl
) -> None:
    script = "for i in 1 2 3; do echo line $i; sleep 0.1; done"
    pods.create(_pod("follow", "sh", "-c", script, restartPolicy="Never"))
    eventually(lambda: _main(pods, "follow").get("state"), "the container starts")
    followed = kubectl.run("logs", "-f", "follow")
    assert followed.stdout == "line 1\nline 2\nline 3\n"


@pytest.mark.kubectl
@pytest.mark.parametrize("version", ["1.30", KUBECTL])  # plain SPDY, then SPDY in a WebSocket
def test_kubectl_port_forward_reaches_a_python_http_server_and_its_probe(
    pods: Objects, server: APIServer, tmp_path: Path, version: str
) -> None:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    kubectl = Kubectl(_binary(version), kubeconfig, "default", tmp_path / "cache")
    name = f"web-{version.replace('.', '-')}"
    port = _free_port()
    probe = {"httpGet": {"path": "/", "port": port}, "periodSeconds": 1}
    serve = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    script = f"echo served > index.html && exec {' '.join(serve)}"
    pods.create(_pod(name, "sh", "-c", script, container={"readinessProbe": probe}))
    eventually(lambda: _main(pods, name).get("ready"), "the server answers its probe")
    local = _free_port()
    forward = subprocess.Popen(
        kubectl.argv("port-forward", f"pod/{name}", f"{local}:{port}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=kubectl.env,
    )
    try:
        assert forward.stdout is not None
        assert "Forwarding from 127.0.0.1" in forward.stdout.readline()
        with urllib.request.urlopen(f"http://127.0.0.1:{local}/index.html", timeout=10) as got:
            assert (got.status, got.read()) == (200, b"served\n")
    finally:
        forward.terminate()
        forward.communicate(timeout=10)
    assert "GET /index.html" in kubectl.run("logs", name).stdout


def test_no_process_outlives_its_pod_or_the_server(specs_dir: Path, tmp_path: Path) -> None:
    script = "sleep 1000 & echo $!; echo $$$$; wait"  # $$ is the kubelet's escape of $
    with _tls_server(specs_dir) as server:
        config = Config(host=server.url, bearer_token=server.token, ca_data=server.ca_pem or b"")
        with RESTClient(config) as client:
            pods: Objects = ResourceClient(
                client, GroupVersionResource("", "v1", "pods"), dict, dict, "default"
            )
            for name in ("deleted", "kept"):
                pods.create(_pod(name, "sh", "-c", script))
            logs = server.containers.logs

            def pids(name: str) -> list[int] | None:
                lines = [e.data for e in logs.log("default", name, "main").entries]
                return [int(line) for line in lines] if len(lines) == 2 else None

            deleted = eventually(lambda: pids("deleted"), "the processes of one pod start")
            kept = eventually(lambda: pids("kept"), "the processes of the other start")
            assert all(_alive(pid) for pid in deleted + kept)
            pods.delete("deleted")
            eventually(lambda: not any(_alive(pid) for pid in deleted), "the pod's processes go")
            assert all(_alive(pid) for pid in kept)
            kubectl = Kubectl(
                _binary(KUBECTL), server.write_kubeconfig(tmp_path / "kc"), "default", tmp_path
            )
            background = "sleep 1000 >/dev/null & echo $!"
            left = int(kubectl.run("exec", "kept", "--", "sh", "-c", background).stdout)
            # what an exec leaves in its process group is killed (SIGKILL lands a moment later)
            eventually(lambda: not _alive(left), "the background process of the exec goes")
    assert not any(_alive(pid) for pid in kept)


def test_kubectl_attach_reaches_the_main_process(
    pods: Objects, kubectl: Kubectl, tmp_path: Path
) -> None:
    manifest = _pod(
        "talk",
        "sh",
        "-c",
        "echo ready; while read line; do echo got $line; done; echo bye",
        container={"stdin": True, "stdinOnce": True},
        restartPolicy="Never",
    )
    manifest |= {"apiVersion": "v1", "kind": "Pod"}
    (tmp_path / "talk.yaml").write_text(yaml.safe_dump(manifest))
    kubectl.run("apply", "-f", str(tmp_path / "talk.yaml"))
    eventually(lambda: _main(pods, "talk").get("ready"), "the container runs")
    attached = kubectl.run("attach", "-i", "talk", stdin="a\nb\n")
    assert attached.stdout.splitlines()[-3:] == ["got a", "got b", "bye"]
    eventually(lambda: _status(pods, "talk").get("phase") == "Succeeded", "stdin once: it ends")
    assert kubectl.run("logs", "talk").stdout == "ready\ngot a\ngot b\nbye\n"


def test_local_mode_needs_the_controllers_and_a_command(specs_dir: Path, pods: Objects) -> None:
    with pytest.raises(ValueError, match="needs controllers=True"):
        APIServer(specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"], kubelet="local")
    with pytest.raises(ValueError, match="expected 'handlers' or 'local'"):
        APIServer(specs=[specs_dir / "kubernetes" / "v1.35" / "openapi-v3"], kubelet="docker")
    pods.create(_pod("imageonly", restartPolicy="Never"))
    eventually(lambda: _status(pods, "imageonly").get("phase") == "Failed", "it cannot start")
    terminated = _main(pods, "imageonly")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (128, "StartError")
    assert "images are not run" in terminated["message"]


@pytest.mark.kubectl
def test_kgen_testserver_kubelet_local_serves_kubectl_attach_and_logs(
    specs_dir: Path, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    command = [
        sys.executable,
        "-m",
        "kgen",
        "testserver",
        "--spec",
        str(specs_dir / "kubernetes" / "v1.35" / "openapi-v3"),
        "--kubelet",
        "local",
        "--kubeconfig-out",
        str(kubeconfig),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        while "press Ctrl-C" not in process.stdout.readline():
            assert process.poll() is None, process.stderr and process.stderr.read()
        kubectl = Kubectl(_binary(KUBECTL), kubeconfig, "default", tmp_path / "cache")
        manifest = _pod(
            "echo",
            "sh",
            "-c",
            "read line; echo got $line",
            container={"stdin": True, "stdinOnce": True},
            restartPolicy="Never",
        ) | {"apiVersion": "v1", "kind": "Pod"}
        kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump(manifest))
        kubectl.run("wait", "--for=condition=Ready", "pod/echo", "--timeout=30s")
        assert kubectl.run("attach", "-i", "echo", stdin="hello\n").stdout.endswith("got hello\n")
        kubectl.run("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/echo", "--timeout=30s")
        assert kubectl.run("logs", "echo").stdout == "got hello\n"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0 and out.strip().endswith("stopped"), err
    refused = subprocess.run(
        [*command[:6], "--kubelet", "local", "--no-controllers"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "needs controllers=True" in refused.stderr


@pytest.mark.kubectl
def test_kubectl_run_rm_i_runs_the_args_and_cleans_up(pods: Objects, kubectl: Kubectl) -> None:
    done = kubectl.run(
        "run",
        "--rm",
        "-i",
        "--restart=Never",
        "once",
        "--image=busybox",
        "--",
        "sh",
        "-c",
        "echo hi",
    )
    assert done.stdout.splitlines()[0] == "hi"
    assert 'pod "once" deleted' in done.stdout + done.stderr
    names = lambda: [p["metadata"]["name"] for p in pods.list()["items"]]  # noqa: E731
    eventually(lambda: "once" not in names(), "the pod is removed")


def test_a_failing_liveness_probe_restarts_the_process(pods: Objects, kubectl: Kubectl) -> None:
    """The probe's command runs in the container; once it fails the process gets SIGTERM and
    the container starts again (its command recreating what the probe looks for)."""
    probe = {"exec": {"command": ["test", "-f", "alive"]}, "periodSeconds": 1}
    script = "echo started; touch alive; exec sleep 1000"
    pods.create(
        _pod(
            "lively",
            "sh",
            "-c",
            script,
            container={"livenessProbe": probe | {"failureThreshold": 1}},
        )
    )
    first = eventually(
        lambda: _main(pods, "lively").get("started") and _main(pods, "lively"), "runs"
    )
    kubectl.run("exec", "lively", "--", "rm", "alive")
    again = eventually(
        lambda: (s := _main(pods, "lively")).get("restartCount") == 1 and s.get("ready") and s,
        "the container is restarted",
        timeout=20,
    )
    ended = again["lastState"]["terminated"]
    assert (ended["exitCode"], ended["reason"]) == (143, "Error")
    assert again["containerID"] != first["containerID"]
    assert kubectl.run("logs", "lively", "--previous").stdout == "started\n"
    events = kubectl.json("get", "events", "--field-selector", "involvedObject.name=lively")
    messages = {e["message"] for e in events["items"]}
    assert "Container main failed liveness probe, will be restarted" in messages
    assert "Liveness probe failed: " in messages  # ``test`` says nothing when it fails
