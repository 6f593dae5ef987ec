"""Helm 3 release Secrets: decoding (checked against data made with gzip/base64 in the shell)."""

import base64
import gzip
import json

import pytest
from ownership_fixtures import RELEASE, live

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources.helm_history import current_release, decode_release, release_secrets


def secret_name(release, version):
    return f"sh.helm.release.v1.{release}.v{version}"


def encode_release(release):
    """What Helm stores (gzip, base64) as the API serves it (base64 again)."""
    return base64.b64encode(base64.b64encode(gzip.compress(json.dumps(release).encode()))).decode()


def test_fixture_secrets_made_by_the_shell_decode():
    secrets = live("helm-release-secrets")
    assert [s["metadata"]["name"] for s in release_secrets(secrets, RELEASE)] == [
        secret_name(RELEASE, n) for n in (2, 3, 4)
    ]
    record = current_release(secrets, RELEASE)
    # v4 failed, so Helm diffs against the latest deployed revision, v3.
    assert (record.version, record.status, record.name) == (3, "deployed", "production")
    (policy,) = record.policies()  # the Service in the manifest is not a policy
    assert policy["metadata"]["name"] == "production-auto-deploy"


def test_other_releases_secrets_are_not_mixed_in():
    assert release_secrets(live("helm-release-secrets"), "production-canary") == []
    assert current_release(live("helm-release-secrets"), "production-canary") is None


def _secret(version, status, release):
    return {
        "kind": "Secret",
        "metadata": {"name": secret_name(RELEASE, version)},
        "data": {"release": encode_release(release | {"version": version, "info": {"status": status}})},
    }


@pytest.mark.parametrize(
    ("statuses", "chosen"),
    [
        (["superseded", "deployed"], 2),
        (["deployed", "failed"], 1),
        (["failed", "failed"], 2),  # nothing deployed: the latest, as helm upgrade does
        (["deployed", "superseded", "pending-upgrade"], 1),
    ],
)
def test_current_release_is_the_one_helm_upgrade_diffs_against(statuses, chosen):
    secrets = [_secret(i + 1, s, {"name": RELEASE, "manifest": ""}) for i, s in enumerate(statuses)]
    assert current_release(secrets, RELEASE).version == chosen


def test_uncompressed_release_from_old_helm_decodes():
    plain = base64.b64encode(base64.b64encode(json.dumps({"name": "x"}).encode())).decode()
    assert decode_release(plain, secret="s") == {"name": "x"}


def test_round_trip():
    release = {"name": RELEASE, "manifest": "---\nkind: NetworkPolicy\n"}
    assert decode_release(encode_release(release), secret="s") == release


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not base64!", "not base64 of base64"),
        (base64.b64encode(b"plain").decode(), "not base64 of base64"),
        (base64.b64encode(base64.b64encode(b"\x1f\x8b\x08garbage")).decode(), "not valid gzip"),
        (base64.b64encode(base64.b64encode(gzip.compress(b"[1, 2]"))).decode(), "not a JSON object"),
        (base64.b64encode(base64.b64encode(b"{nope")).decode(), "not JSON"),
    ],
)
def test_bad_data_is_an_input_error_naming_the_secret(data, message):
    with pytest.raises(InputError) as info:
        decode_release(data, secret="sh.helm.release.v1.production.v9")
    assert message in info.value.message and "sh.helm.release.v1.production.v9" in info.value.message


def test_bad_manifest_is_an_input_error():
    secrets = [_secret(1, "deployed", {"name": RELEASE, "manifest": "a: [unclosed"})]
    with pytest.raises(InputError):
        current_release(secrets, RELEASE).policies()


def test_the_record_holds_the_cluster_scoped_policies_of_customresources_too():
    manifest = "\n---\n".join(
        [
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\nspec: {}",
            "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata:\n  name: dns\nspec: {}",
            "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n"
            "  name: tier\nspec: {tier: Admin, priority: 10}",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web",
        ]
    )
    secrets = [_secret(1, "deployed", {"name": RELEASE, "manifest": manifest})]
    kinds = [policy["kind"] for policy in current_release(secrets, RELEASE).policies()]
    assert kinds == ["NetworkPolicy", "CiliumClusterwideNetworkPolicy", "ClusterNetworkPolicy"]
