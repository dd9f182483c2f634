"""Authentication (bearer tokens, client certificates, anonymous 401) and the allow-list (403),
over HTTPS with a CA from trustme."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import trustme

from kgen.testing import APIServer, Rule, User
from tests.testing.conftest import small_model


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def secure(ca: trustme.CA) -> Iterator[APIServer]:
    cert = ca.issue_cert("127.0.0.1")
    server = APIServer(
        small_model(),
        tls=(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()),
        ca_pem=ca.cert_pem.bytes(),
        client_ca_pem=ca.cert_pem.bytes(),
        users={"viewer-token": User("viewer", ("viewers",))},
        rules=[
            Rule(users=("kgen-admin",)),
            Rule(
                verbs=("get", "list", "watch"),
                resources=("configmaps",),
                members=("viewers",),
                namespaces=("default",),
            ),
        ],
    )
    with server:
        yield server


def _session(server: APIServer, tmp_path: Path, token: str | None = None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # the environment's CA bundle would replace ours
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(server.ca_pem or b"")
    session.verify = str(bundle)
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def test_https_with_token(secure: APIServer, tmp_path: Path) -> None:
    assert secure.url.startswith("https://127.0.0.1:")
    with _session(secure, tmp_path, secure.token) as session:
        response = session.get(secure.url + "/api/v1/namespaces", timeout=10)
        assert response.status_code == 200
        assert response.json()["kind"] == "NamespaceList"


def test_anonymous_and_bad_token_get_401(secure: APIServer, tmp_path: Path) -> None:
    with _session(secure, tmp_path) as session:
        anonymous = session.get(secure.url + "/api/v1/namespaces", timeout=10)
        assert anonymous.status_code == 401
        assert anonymous.json()["reason"] == "Unauthorized"
        assert session.get(secure.url + "/healthz", timeout=10).text == "ok"
        session.headers["Authorization"] = "Bearer wrong"
        assert session.get(secure.url + "/api/v1/namespaces", timeout=10).status_code == 401


def test_allow_list_gives_403(secure: APIServer, tmp_path: Path) -> None:
    with _session(secure, tmp_path, "viewer-token") as session:
        assert (
            session.get(
                secure.url + "/api/v1/namespaces/default/configmaps", timeout=10
            ).status_code
            == 200
        )
        denied = session.post(
            secure.url + "/api/v1/namespaces/default/configmaps",
            json={"metadata": {"name": "x"}},
            timeout=10,
        )
        assert denied.status_code == 403
        status = denied.json()
        assert status["reason"] == "Forbidden"
        assert status["message"] == (
            'configmaps is forbidden: User "viewer" cannot create resource "configmaps" in API group "" '
            'in the namespace "default"'
        )
        other = session.get(secure.url + "/api/v1/namespaces/kube-system/configmaps", timeout=10)
        assert other.status_code == 403


def test_client_certificate_authenticates(
    secure: APIServer, ca: trustme.CA, tmp_path: Path
) -> None:
    client_cert = ca.issue_cert("kgen-admin@example.com", common_name="kgen-admin")
    pem = tmp_path / "client.pem"
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    with _session(secure, tmp_path) as session:
        session.cert = str(pem)
        response = session.get(secure.url + "/api/v1/namespaces/default", timeout=10)
        assert response.status_code == 200, response.text
        assert response.json()["metadata"]["name"] == "default"


def test_kubeconfig_names_the_server_and_ca(secure: APIServer, tmp_path: Path) -> None:
    import yaml

    config = yaml.safe_load(secure.write_kubeconfig(tmp_path / "kubeconfig").read_text())
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == secure.url
    assert cluster["certificate-authority-data"]
    assert config["users"][0]["user"]["token"] == secure.token
    assert (tmp_path / "kubeconfig").stat().st_mode & 0o777 == 0o600


def test_reviews_answer_from_the_rules(secure: APIServer, ca: trustme.CA, tmp_path: Path) -> None:
    def access(session: requests.Session, verb: str, namespace: str) -> bool:
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {
                "resourceAttributes": {
                    "verb": verb,
                    "resource": "configmaps",
                    "namespace": namespace,
                }
            },
        }
        answer = session.post(
            secure.url + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            json=body,
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return bool(answer.json()["status"]["allowed"])

    with _session(secure, tmp_path, "viewer-token") as viewer:
        assert access(viewer, "list", "default")
        assert not access(viewer, "delete", "default")
        assert not access(viewer, "list", "kube-system")
        who = viewer.post(
            secure.url + "/apis/authentication.k8s.io/v1/selfsubjectreviews", json={}, timeout=10
        )
        assert who.json()["status"]["userInfo"] == {"username": "viewer", "groups": ["viewers"]}
    with _session(secure, tmp_path, secure.token) as admin:
        token = admin.post(
            secure.url + "/apis/authentication.k8s.io/v1/tokenreviews",
            json={"spec": {"token": "viewer-token"}},
            timeout=10,
        ).json()
        assert token["status"] == {
            "authenticated": True,
            "user": {"username": "viewer", "groups": ["viewers"]},
        }
        listed = admin.get(
            secure.url + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", timeout=10
        )
        assert listed.status_code == 405


def test_self_signed_tls_serves_https_trusting_its_own_ca(tmp_path: Path) -> None:
    with APIServer(small_model(), tls="self-signed") as server:
        assert server.url.startswith("https://127.0.0.1:") and server.ca_pem
        bundle = tmp_path / "ca.pem"
        bundle.write_bytes(server.ca_pem)
        headers = {"Authorization": f"Bearer {server.token}"}
        for host in ("127.0.0.1", "localhost"):
            url = server.url.replace("127.0.0.1", host) + "/api/v1/namespaces"
            assert requests.get(url, headers=headers, verify=str(bundle), timeout=10).ok
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url + "/api", timeout=10)  # not in the system's trust store


def test_self_signed_tls_refuses_a_given_ca() -> None:
    with pytest.raises(ValueError, match="makes its own CA"):
        APIServer(small_model(), tls="self-signed", ca_pem=b"-----BEGIN CERTIFICATE-----")
