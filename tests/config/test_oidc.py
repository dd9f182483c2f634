"""The ``oidc`` auth provider, for real: kgen.testing's API server over TLS accepting only some
ID tokens, an OpenID Connect issuer over TLS (its own trustme CA, named by
``idp-certificate-authority``), and the kubeconfig file the refreshed tokens are written to."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from kgen.config import (
    REMOVED_PROVIDERS,
    AuthProviderError,
    KubeconfigError,
    OIDCAuthProvider,
    load_file,
    load_kubeconfig,
    merged_view,
)
from kgen.config._oidc import EXPIRY_DELTA, id_token_valid
from kgen.rest import RESTClient, StatusError, is_unauthorized
from kgen.testing import APIServer, User
from tests.testing.conftest import small_model

from .helpers import DIRECT_KUBECTL, kubectl_json
from .oidc_issuer import CLIENT_ID, CLIENT_SECRET, Issuer, jwt
from .server import Server

NOW = time.time()
VALID = jwt("alice", NOW + 3600, n="valid")
EXPIRED = jwt("alice", NOW - 60, n="expired")
REVOKED = jwt("alice", NOW + 3600, n="revoked")
"""Valid by its exp, but the API server does not accept it."""
REFRESHED = [jwt("alice", NOW + 3600, n=f"refreshed-{i}") for i in range(4)]
ACCEPTED = [VALID, *REFRESHED]


@pytest.fixture(scope="module")
def api_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def api(api_ca: trustme.CA) -> Iterator[APIServer]:
    cert = api_ca.issue_cert("127.0.0.1")
    server = APIServer(
        small_model(),
        tls=(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()),
        ca_pem=api_ca.cert_pem.bytes(),
        users={token: User("alice", ("oidc:devs",)) for token in ACCEPTED},
    )
    with server:
        yield server


@pytest.fixture
def idp_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def issuer(idp_ca: trustme.CA) -> Iterator[Issuer]:
    running = Issuer(idp_ca, REFRESHED)
    yield running
    running.stop()


KUBECONFIG = """\
# written by hand; kgen keeps everything but the comments
apiVersion: v1
kind: Config
preferences: {{}}
current-context: oidc
clusters:
- name: local
  cluster:
    server: {server}
    certificate-authority: api-ca.pem
contexts:
- name: oidc
  context: {{cluster: local, user: alice, namespace: "n"}}
users:
- name: other
  user: {{token: "y"}}
- name: alice
  user:
    auth-provider:
      name: oidc
      config:
        idp-issuer-url: {issuer}
        idp-certificate-authority: {idp_ca}
        client-id: {client_id}
        client-secret: {client_secret}
        extra-scopes: groups
{tokens}
    x-unknown-field: kept
"""


def write_kubeconfig(
    folder: Path,
    server_url: str,
    api_ca: trustme.CA,
    issuer_url: str,
    idp_ca: trustme.CA,
    *,
    id_token: str | None = None,
    refresh_token: str | None = "r0",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    api_ca.cert_pem.write_to_path(str(folder / "api-ca.pem"))
    idp_ca_file = folder / "idp-ca.pem"
    idp_ca.cert_pem.write_to_path(str(idp_ca_file))
    tokens = [
        f"        {key}: {value}"
        for key, value in (("id-token", id_token), ("refresh-token", refresh_token))
        if value is not None
    ]
    path = folder / "config"
    path.write_text(
        KUBECONFIG.format(
            server=server_url,
            issuer=issuer_url,
            idp_ca=idp_ca_file,
            client_id=f'"{CLIENT_ID}"',
            client_secret=f'"{CLIENT_SECRET}"',
            tokens="\n".join(tokens),
        )
    )
    path.chmod(0o600)
    return path


@pytest.fixture
def kubeconfig(
    tmp_path: Path, api: APIServer, api_ca: trustme.CA, issuer: Issuer, idp_ca: trustme.CA
) -> Any:
    """``kubeconfig(id_token=..., refresh_token=...)``: the file, for the test's issuer."""

    def make(**tokens: Any) -> Path:
        return write_kubeconfig(tmp_path / "kube", api.url, api_ca, issuer.url, idp_ca, **tokens)

    return make


def namespaces(path: Path) -> Any:
    with RESTClient(load_kubeconfig(path)) as client:
        return client.get().abs_path("api/v1/namespaces").do().json()


def provider_config(path: Path) -> dict[str, str]:
    auth_provider = load_file(path).auth_infos["alice"].auth_provider
    assert auth_provider is not None
    return dict(auth_provider.config or {})


def without_tokens(path: Path) -> Any:
    """The file's YAML tree with alice's two tokens taken out."""
    tree = yaml.safe_load(path.read_text())
    for user in tree["users"]:
        config = user["user"].get("auth-provider", {}).get("config", {})
        config.pop("id-token", None)
        config.pop("refresh-token", None)
    return tree


def test_a_valid_id_token_is_used_as_is(kubeconfig: Any, issuer: Issuer) -> None:
    path = kubeconfig(id_token=VALID)
    before = path.read_bytes()
    assert namespaces(path)["kind"] == "NamespaceList"
    assert issuer.discoveries == 0 and issuer.requests == []
    assert path.read_bytes() == before


def test_an_expired_token_is_refreshed_and_written_back(kubeconfig: Any, issuer: Issuer) -> None:
    path = kubeconfig(id_token=EXPIRED)
    tree_before = without_tokens(path)
    assert namespaces(path)["kind"] == "NamespaceList"
    assert namespaces(path)["kind"] == "NamespaceList"  # the refreshed token is kept
    assert issuer.discoveries == 1 and issuer.refreshes == 1
    (request,) = issuer.requests
    assert request.form == {"grant_type": "refresh_token", "refresh_token": "r0"}
    assert request.basic == (CLIENT_ID, CLIENT_SECRET)
    assert "%2F%2B%3D" in base64.b64decode(request.authorization[6:]).decode()
    config = provider_config(path)
    assert config["id-token"] == REFRESHED[0]
    assert config["refresh-token"] == "r1"
    # Everything else is as it was, the unknown field and the quoted "y" included.
    assert without_tokens(path) == tree_before
    assert load_file(path).auth_infos["other"].token == "y"
    assert "# written by hand" not in path.read_text()
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["api-ca.pem", "config", "idp-ca.pem"]


def test_a_token_inside_the_expiry_slack_is_refreshed(kubeconfig: Any, issuer: Issuer) -> None:
    path = kubeconfig(id_token=jwt("alice", time.time() + EXPIRY_DELTA / 2))
    assert namespaces(path)["kind"] == "NamespaceList"
    assert issuer.refreshes == 1
    assert provider_config(path)["id-token"] == REFRESHED[0]


def test_the_expiry_slack_is_ten_seconds() -> None:
    token = jwt("alice", 1_000_000)
    assert id_token_valid(token, 1_000_000 - 10.5)
    assert not id_token_valid(token, 1_000_000 - 10)
    no_exp = base64.urlsafe_b64encode(b'{"sub": "alice"}').rstrip(b"=").decode()
    assert not id_token_valid(f"e30.{no_exp}.c2ln", 0)  # no exp: expired
    with pytest.raises(ValueError, match="not a valid JWT"):
        id_token_valid("opaque-token", 0)


def test_a_missing_id_token_is_fetched_and_a_kept_refresh_token_stays(
    kubeconfig: Any, issuer: Issuer
) -> None:
    issuer.rotate = False
    path = kubeconfig()
    assert namespaces(path)["kind"] == "NamespaceList"
    config = provider_config(path)
    assert (config["id-token"], config["refresh-token"]) == (REFRESHED[0], "r0")


def test_credentials_move_to_the_form_when_the_basic_header_fails(
    kubeconfig: Any, issuer: Issuer
) -> None:
    issuer.accept_basic = False
    path = kubeconfig(id_token=EXPIRED)
    assert namespaces(path)["kind"] == "NamespaceList"
    header, form = issuer.requests
    assert header.basic == (CLIENT_ID, CLIENT_SECRET) and "client_id" not in header.form
    assert form.authorization == ""
    assert form.form == {
        "grant_type": "refresh_token",
        "refresh_token": "r0",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


def test_a_refused_refresh_is_an_error_naming_the_user_and_the_issuer(
    kubeconfig: Any, issuer: Issuer
) -> None:
    issuer.answer = "invalid_grant"
    path = kubeconfig(id_token=EXPIRED)
    before = path.read_bytes()
    with pytest.raises(AuthProviderError) as caught:
        namespaces(path)
    message = str(caught.value)
    assert "users[name=alice]" in message and issuer.url in message and str(path) in message
    assert "invalid_grant" in message and "refresh token unknown" in message
    assert (caught.value.user, caught.value.issuer) == ("alice", issuer.url)
    assert len(issuer.requests) == 2  # the Basic header, then the form, as client-go tries
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("no_id_token", "did not contain an id_token"),
        ("discovery_404", "failed to query metadata endpoint 404"),
        ("unreachable", "cannot reach the issuer"),
        ("no_refresh_token", "cannot refresh without refresh-token"),
        ("not_a_jwt", "ID Token is not a valid JWT"),
    ],
)
def test_every_failed_refresh_is_an_error_and_no_request_goes_out(
    setup: str,
    expected: str,
    tmp_path: Path,
    api_ca: trustme.CA,
    issuer: Issuer,
    idp_ca: trustme.CA,
) -> None:
    """The API server here records what reaches it: nothing does."""
    recorder = Server(api_ca, cert_names=("127.0.0.1",))
    issuer_url, tokens = issuer.url, {"id_token": EXPIRED}
    if setup == "no_id_token":
        issuer.answer = "no_id_token"
    elif setup == "discovery_404":
        issuer.discovery_status = 404
    elif setup == "unreachable":
        issuer_url = "https://127.0.0.1:1"
    elif setup == "no_refresh_token":
        tokens["refresh_token"] = None
    else:
        tokens["id_token"] = "opaque-token"
    path = write_kubeconfig(tmp_path, recorder.url, api_ca, issuer_url, idp_ca, **tokens)
    before = path.read_bytes()
    try:
        with pytest.raises(AuthProviderError, match=expected) as caught:
            namespaces(path)
    finally:
        recorder.stop()
    assert recorder.seen == []
    assert "users[name=alice]" in str(caught.value) and issuer_url in str(caught.value)
    assert path.read_bytes() == before


def test_a_401_to_a_cached_token_reaches_the_caller_without_a_refresh(
    kubeconfig: Any, issuer: Issuer
) -> None:
    path = kubeconfig(id_token=REVOKED)
    with RESTClient(load_kubeconfig(path)) as client:
        for _ in range(2):  # the token is kept until its exp, as client-go keeps it
            with pytest.raises(StatusError) as caught:
                client.get().abs_path("api/v1/namespaces").do()
            assert is_unauthorized(caught.value)
    assert issuer.discoveries == 0 and issuer.requests == []
    assert provider_config(path)["id-token"] == REVOKED


def test_clients_racing_share_one_refresh(kubeconfig: Any, issuer: Issuer) -> None:
    issuer.delay = 0.2
    path = kubeconfig(id_token=EXPIRED)
    clients = [RESTClient(load_kubeconfig(path)) for _ in range(2)]
    assert clients[0].auth_provider is clients[1].auth_provider
    start = threading.Barrier(6)
    results: list[Any] = []

    def call(client: RESTClient) -> None:
        start.wait()
        results.append(client.get().abs_path("api/v1/namespaces").do().json()["kind"])

    threads = [threading.Thread(target=call, args=(clients[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    for client in clients:
        client.close()
    assert results == ["NamespaceList"] * 6
    assert issuer.refreshes == 1
    assert provider_config(path)["id-token"] == REFRESHED[0]


def test_separate_providers_racing_refresh_once_through_the_file(
    kubeconfig: Any, issuer: Issuer
) -> None:
    """Two providers (as in two processes) on one file: the second waits for the lock, finds
    the first one's fresh token in the file and takes it, rather than spending the
    single-use refresh token again."""
    issuer.delay = 0.2
    path = kubeconfig(id_token=EXPIRED)
    config = provider_config(path)
    providers = [OIDCAuthProvider(config, user="alice", origin=str(path)) for _ in range(2)]
    start = threading.Barrier(2)
    tokens: list[str] = []

    def call(provider: OIDCAuthProvider) -> None:
        start.wait()
        tokens.append(provider.id_token())

    threads = [threading.Thread(target=call, args=(provider,)) for provider in providers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert tokens == [REFRESHED[0], REFRESHED[0]]
    assert issuer.refreshes == 1 and len(issuer.requests) == 1
    assert provider_config(path)["refresh-token"] == "r1"


def test_a_refresh_waits_for_kubectls_lock_file(kubeconfig: Any, issuer: Issuer) -> None:
    path = kubeconfig(id_token=EXPIRED)
    lock = Path(str(path) + ".lock")
    lock.touch()  # as kubectl holds it while it modifies the file
    provider = OIDCAuthProvider(provider_config(path), user="alice", origin=str(path))
    tokens: list[str] = []
    thread = threading.Thread(target=lambda: tokens.append(provider.id_token()))
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive() and issuer.requests == []
    lock.unlink()
    thread.join(10)
    assert tokens == [REFRESHED[0]]
    assert not lock.exists()


@pytest.mark.parametrize(
    ("name", "replacement"),
    [
        ("gcp", "gke-gcloud-auth-plugin"),
        ("azure", "kubelogin (Azure/kubelogin)"),
        ("openstack", "client-keystone-auth (from cloud-provider-openstack)"),
    ],
)
def test_removed_providers_name_their_exec_plugin(
    name: str, replacement: str, tmp_path: Path, api: APIServer
) -> None:
    path = tmp_path / "config"
    path.write_text(f"""\
current-context: c
clusters: [{{name: c, cluster: {{server: "{api.url}"}}}}]
contexts: [{{name: c, context: {{cluster: c, user: u}}}}]
users: [{{name: u, user: {{auth-provider: {{name: {name}, config: {{}}}}}}}}]
""")
    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(path)
    message = str(caught.value)
    assert (
        f"users[name=u].user.auth-provider: the {name!r} auth provider has been removed" in message
    )
    assert f"use the {replacement} exec credential plugin instead" in message
    assert str(path) in message and "http" not in message.replace(api.url, "")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("{name: keycloak}", 'no Auth Provider found for name "keycloak"'),
        ("{name: oidc, config: {client-id: x}}", "config.idp-issuer-url must be provided"),
        (
            "{name: oidc, config: {idp-issuer-url: 'https://i'}}",
            "config.client-id must be provided",
        ),
        (
            "{name: oidc, config: {idp-issuer-url: 'https://i', client-id: x,"
            " idp-certificate-authority-data: '%%%'}}",
            "config.idp-certificate-authority-data is not valid base64",
        ),
    ],
)
def test_unknown_providers_and_incomplete_oidc_configs_are_refused(
    provider: str, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "config"
    path.write_text(f"""\
current-context: c
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:1"}}}}]
contexts: [{{name: c, context: {{cluster: c, user: u}}}}]
users: [{{name: u, user: {{auth-provider: {provider}}}}}]
""")
    with pytest.raises(KubeconfigError, match=expected):
        load_kubeconfig(path)


def kubectl(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real kubectl with only this kubeconfig (and a private HOME for its caches)."""
    if DIRECT_KUBECTL is None:
        pytest.skip("kubectl is not installed")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(path.parent), "KUBECONFIG": str(path)}
    return subprocess.run(
        [DIRECT_KUBECTL, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.kubectl
def test_kubectl_loads_the_file_kgen_wrote_back(kubeconfig: Any, issuer: Issuer) -> None:
    path = kubeconfig(id_token=EXPIRED)
    assert namespaces(path)["kind"] == "NamespaceList"
    viewed = kubectl_json(path.parent, str(path), path.parent)
    assert viewed == merged_view(path)
    (alice,) = (user for user in viewed["users"] if user["name"] == "alice")
    assert alice["user"]["auth-provider"]["config"]["id-token"] == REFRESHED[0]
    done = kubectl(path, "get", "--raw", "/api/v1/namespaces")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kind"] == "NamespaceList"
    assert issuer.refreshes == 1  # kubectl used the token kgen stored


@pytest.mark.kubectl
@pytest.mark.parametrize("accept_basic", [True, False], ids=["basic", "form"])
def test_kubectl_refreshes_the_same_way(
    accept_basic: bool, kubeconfig: Any, issuer: Issuer
) -> None:
    """kubectl, from the same file, sends the token endpoint what kgen sends, and kgen takes
    the tokens kubectl wrote back."""
    issuer.accept_basic = accept_basic
    path = kubeconfig(id_token=EXPIRED)
    done = kubectl(path, "get", "--raw", "/api/v1/namespaces")
    assert done.returncode == 0, done.stderr
    by_kubectl = list(issuer.requests)
    config = provider_config(path)
    assert (config["id-token"], config["refresh-token"]) == (REFRESHED[0], "r1")

    issuer.valid_refresh.add("r0")
    rewind = dict(config, **{"id-token": EXPIRED, "refresh-token": "r0"})
    provider = OIDCAuthProvider(rewind, user="alice")  # no file: kept in memory
    assert provider.id_token() == REFRESHED[1]
    by_kgen = issuer.requests[len(by_kubectl) :]
    assert [(r.basic, r.form) for r in by_kgen] == [(r.basic, r.form) for r in by_kubectl]

    assert namespaces(path)["kind"] == "NamespaceList"
    assert issuer.refreshes == 2  # kgen used the token kubectl stored


@pytest.mark.kubectl
@pytest.mark.parametrize("name", ["gcp", "azure", "openstack"])
def test_kubectl_refuses_removed_providers_too(name: str, tmp_path: Path, api: APIServer) -> None:
    path = tmp_path / "config"
    path.write_text(f"""\
current-context: c
clusters: [{{name: c, cluster: {{server: "{api.url}", insecure-skip-tls-verify: true}}}}]
contexts: [{{name: c, context: {{cluster: c, user: u}}}}]
users: [{{name: u, user: {{auth-provider: {{name: {name}, config: {{}}}}}}}}]
""")
    done = kubectl(path, "get", "--raw", "/api/v1/namespaces")
    assert done.returncode != 0
    plugin = REMOVED_PROVIDERS[name][0].split()[0]
    # kubectl 1.33 no longer has openstack's stub and only says it knows no such provider.
    removed = "no Auth Provider found" if name == "openstack" else "plugin has been removed"
    assert removed in done.stderr and (plugin in done.stderr or name == "openstack")
    with pytest.raises(KubeconfigError, match=plugin):
        load_kubeconfig(path)


def test_tokens_go_back_to_the_file_the_user_came_from(
    kubeconfig: Any, issuer: Issuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``KUBECONFIG`` listing two files, the refreshed tokens are written to the one that
    holds the user entry, through a symbolic link to it; the other file is not touched."""
    real = kubeconfig(id_token=EXPIRED)
    first = tmp_path / "first.yaml"
    first.write_text("current-context: oidc\npreferences: {colors: true}\n")
    first_bytes = first.read_bytes()
    link = real.parent / "linked.yaml"
    link.symlink_to(real)
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(first), str(link)]))
    with RESTClient(load_kubeconfig()) as client:
        assert client.get().abs_path("api/v1/namespaces").do().json()["kind"] == "NamespaceList"
    assert first.read_bytes() == first_bytes
    assert link.is_symlink() and provider_config(real)["id-token"] == REFRESHED[0]


RACER = """\
import os, sys, time
from kgen.config import load_kubeconfig
provider = load_kubeconfig(sys.argv[1]).auth_provider
open(sys.argv[3], "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
print(provider.id_token())
"""


def test_processes_racing_refresh_once_under_the_lock_file(
    kubeconfig: Any, issuer: Issuer, tmp_path: Path
) -> None:
    """Two processes, released together: one refreshes while holding ``<file>.lock``, the
    other waits for it and takes the stored token (the refresh token is single-use)."""
    issuer.delay = 0.3
    path = kubeconfig(id_token=EXPIRED)
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(path), str(go), str(tmp_path / f"ready-{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"ready-{i}").exists() for i in range(2)):
        assert time.monotonic() < deadline and all(r.poll() is None for r in racers)
        time.sleep(0.01)
    go.touch()
    outputs = [racer.communicate(timeout=60) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0], outputs
    assert [out.strip() for out, _ in outputs] == [REFRESHED[0], REFRESHED[0]]
    assert issuer.refreshes == 1 and len(issuer.requests) == 1
    assert provider_config(path)["refresh-token"] == "r1"
    assert not Path(str(path) + ".lock").exists()


@pytest.mark.kubectl
@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("invalid_grant", 'oauth2: "invalid_grant" "refresh token unknown"'),
        ("no_id_token", "token response did not contain an id_token"),
    ],
)
def test_kubectl_fails_the_same_refreshes(
    answer: str, reason: str, kubeconfig: Any, issuer: Issuer
) -> None:
    issuer.answer = answer
    path = kubeconfig(id_token=EXPIRED)
    before = path.read_bytes()
    done = kubectl(path, "get", "--raw", "/api/v1/namespaces")
    assert done.returncode != 0 and reason in done.stderr
    issuer.valid_refresh.add("r0")  # the issuer may have spent it on kubectl's try
    with pytest.raises(AuthProviderError) as caught:
        namespaces(path)
    assert reason in str(caught.value)
    assert path.read_bytes() == before


def test_a_token_a_login_tool_stored_meanwhile_is_taken(kubeconfig: Any, issuer: Issuer) -> None:
    """The provider read an expired token and no refresh token; a login in another program
    then stored a valid one: the next request uses it instead of failing."""
    path = kubeconfig(id_token=EXPIRED, refresh_token=None)
    with RESTClient(load_kubeconfig(path)) as client:
        with pytest.raises(AuthProviderError, match="cannot refresh without refresh-token"):
            client.get().abs_path("api/v1/namespaces").do()
        kubeconfig(id_token=VALID, refresh_token=None)
        assert client.get().abs_path("api/v1/namespaces").do().json()["kind"] == "NamespaceList"
    assert issuer.requests == []


@pytest.mark.kubectl
def test_kubectl_refuses_an_unknown_provider_in_the_same_words(
    tmp_path: Path, api: APIServer
) -> None:
    path = tmp_path / "config"
    path.write_text(f"""\
current-context: c
clusters: [{{name: c, cluster: {{server: "{api.url}", insecure-skip-tls-verify: true}}}}]
contexts: [{{name: c, context: {{cluster: c, user: u}}}}]
users: [{{name: u, user: {{auth-provider: {{name: keycloak}}}}}}]
""")
    done = kubectl(path, "get", "--raw", "/api/v1/namespaces")
    words = 'no Auth Provider found for name "keycloak"'
    assert done.returncode != 0 and words in done.stderr
    with pytest.raises(KubeconfigError, match=words):
        load_kubeconfig(path)


@pytest.mark.parametrize("answer", ["ok", "invalid_grant"])
def test_form_encoded_token_answers_are_read(answer: str, kubeconfig: Any, issuer: Issuer) -> None:
    issuer.form_answers, issuer.answer = True, answer
    path = kubeconfig(id_token=EXPIRED)
    if answer == "ok":
        assert namespaces(path)["kind"] == "NamespaceList"
        assert provider_config(path)["refresh-token"] == "r1"
    else:
        with pytest.raises(AuthProviderError, match='oauth2: "invalid_grant"'):
            namespaces(path)


@pytest.mark.parametrize("trust", ["data", "none"])
def test_the_issuer_is_verified_against_the_configured_authority(
    trust: str,
    tmp_path: Path,
    api: APIServer,
    api_ca: trustme.CA,
    issuer: Issuer,
    idp_ca: trustme.CA,
) -> None:
    path = write_kubeconfig(tmp_path, api.url, api_ca, issuer.url, idp_ca, id_token=EXPIRED)
    text = path.read_text()
    ca_line = f"        idp-certificate-authority: {tmp_path / 'idp-ca.pem'}\n"
    assert ca_line in text
    if trust == "data":
        data = base64.b64encode(idp_ca.cert_pem.bytes()).decode()
        path.write_text(text.replace(ca_line, f"        idp-certificate-authority-data: {data}\n"))
        assert namespaces(path)["kind"] == "NamespaceList"
    else:  # the system's trust store does not know the test CA
        path.write_text(text.replace(ca_line, ""))
        with pytest.raises(AuthProviderError, match="CERTIFICATE_VERIFY_FAILED"):
            namespaces(path)
        assert issuer.discoveries == 0
