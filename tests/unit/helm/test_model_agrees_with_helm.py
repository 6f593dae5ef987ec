"""The chart-contract model (``chart.render_objects``) against real Helm, object for object.

Hypothesis writes values files; each one is rendered by helm-python-sdk from the fixture
auto-deploy-app chart with chart-overlays laid on — in its 2.39 shape (the chart's own Cilium
template) and its 2.100 shape (Cilium from the overlay) — and by the model, with the same value
layering Auto Deploy uses. The two lists of objects must be equal, order included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from autodeploy_netpol.desired.chart import chart_defaults, render_objects
from autodeploy_netpol.desired.helm_engine import (
    ENGINE_SDK,
    HelmRelease,
    LoadedChart,
    auto_deploy_set_values,
    open_chart,
)
from autodeploy_netpol.desired.merge import helm_merge_all
from autodeploy_netpol.errors import InputError

pytestmark = pytest.mark.helm

VERSIONS = {"2.39.0": False, "2.100.0": True}  # chart version → modern shape (no Cilium template)
SHARED_LABEL_KEYS = {
    "app",
    "chart",
    "release",
    "heritage",
    "app.kubernetes.io/name",
    "helm.sh/chart",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/instance",
}


@pytest.fixture(scope="module")
def charts(overlaid_charts: dict[str, Path]) -> Iterator[dict[str, LoadedChart]]:
    # Loaded once: every example renders from the same in-memory chart.
    loaded = {version: open_chart(path, engine=ENGINE_SDK) for version, path in overlaid_charts.items()}
    assert set(loaded) == set(VERSIONS)
    yield loaded
    for chart in loaded.values():
        chart.close()


# --- values files ------------------------------------------------------------------------

dns_label = st.from_regex(r"[a-z]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
long_release = st.from_regex(r"[a-z][a-z0-9-]{40,58}[a-z0-9]", fullmatch=True)
label_value = st.one_of(
    st.from_regex(r"([A-Za-z0-9]([A-Za-z0-9._-]{0,10}[A-Za-z0-9])?)?", fullmatch=True),
    st.sampled_from(["true", "no", "on", "123", "1e3", "0x1F", "null", "2001-01-01", "1.5", ""]),
)
label_key = st.one_of(
    dns_label,
    st.builds(lambda p, n: f"{p}.io/{n}", dns_label, dns_label),
    st.sampled_from(["k8s-app", "tier"]),
)
labels = st.dictionaries(label_key, label_value, max_size=3)
# Go prints floats below 1e-4 in exponent form ("1e-05"), which PyYAML (YAML 1.1: a float needs a
# ".") reads back as a string while the API server reads a number. No NetworkPolicy or Cilium field
# is a float, so such values only occur in junk keys; they are left out rather than modelled.
helm_float = st.floats(0, 100, allow_nan=False).filter(lambda f: f == 0 or f >= 1e-4)
scalar = st.one_of(st.integers(min_value=-5, max_value=65535), st.booleans(), label_value, helm_float)

label_selector = st.fixed_dictionaries(
    {},
    optional={
        "matchLabels": labels,
        "matchExpressions": st.lists(
            st.fixed_dictionaries(
                {"key": label_key, "operator": st.sampled_from(["In", "NotIn", "Exists"])},
                optional={"values": st.lists(label_value, max_size=2)},
            ),
            max_size=2,
        ),
    },
)
port = st.fixed_dictionaries(
    {},
    optional={
        "port": st.one_of(st.integers(1, 65535), dns_label),
        "protocol": st.sampled_from(["TCP", "UDP", "SCTP"]),
        "endPort": st.integers(1, 65535),
    },
)
peer = st.one_of(
    st.fixed_dictionaries({"podSelector": label_selector}, optional={"namespaceSelector": label_selector}),
    st.fixed_dictionaries({"namespaceSelector": label_selector}),
    st.fixed_dictionaries(
        {
            "ipBlock": st.fixed_dictionaries(
                {"cidr": st.just("10.0.0.0/8")}, optional={"except": st.just(["10.1.0.0/16"])}
            )
        }
    ),
)
network_policy_spec = st.fixed_dictionaries(
    {},
    optional={
        "podSelector": label_selector,
        "policyTypes": st.lists(st.sampled_from(["Ingress", "Egress"]), max_size=2, unique=True),
        "ingress": st.lists(
            st.fixed_dictionaries(
                {}, optional={"from": st.lists(peer, max_size=3), "ports": st.lists(port, max_size=2)}
            ),
            max_size=3,
        ),
        "egress": st.lists(
            st.fixed_dictionaries(
                {}, optional={"to": st.lists(peer, max_size=3), "ports": st.lists(port, max_size=2)}
            ),
            max_size=2,
        ),
        # Anything else is copied verbatim as well (the chart does not look inside the spec).
        "x-extra": st.dictionaries(dns_label, scalar, max_size=2),
    },
)
cilium_rule = st.fixed_dictionaries(
    {},
    optional={
        "fromEndpoints": st.lists(label_selector, max_size=2),
        "fromEntities": st.lists(st.sampled_from(["world", "cluster", "host"]), max_size=2),
        "toPorts": st.lists(
            st.fixed_dictionaries(
                {
                    "ports": st.lists(
                        st.fixed_dictionaries(
                            {"port": st.integers(1, 65535).map(str)},
                            optional={"protocol": st.sampled_from(["TCP", "UDP", "ANY"])},
                        ),
                        max_size=2,
                    )
                }
            ),
            max_size=1,
        ),
    },
)
cilium_spec = st.fixed_dictionaries(
    {},
    optional={
        "endpointSelector": label_selector,
        "ingress": st.lists(cilium_rule, max_size=2),
        "egress": st.lists(cilium_rule, max_size=2),
    },
)
switch = st.fixed_dictionaries({}, optional={"enabled": st.booleans()})
maybe_switch = st.one_of(st.none(), switch)


def named(spec: st.SearchStrategy[dict[str, Any]], *, alerts: bool) -> st.SearchStrategy[Any]:
    entry_optional: dict[str, st.SearchStrategy[Any]] = {"enabled": st.one_of(st.booleans(), st.none())}
    if alerts:
        entry_optional["alerts"] = maybe_switch
    entry = st.fixed_dictionaries({"spec": spec}, optional=entry_optional)
    return st.dictionaries(dns_label, st.one_of(entry, st.none()), max_size=3)


network_block = st.fixed_dictionaries(
    {},
    optional={
        "enabled": st.booleans(),
        "spec": network_policy_spec,
        "policies": named(network_policy_spec, alerts=False),
        "defaultDeny": maybe_switch,
        "suggested": st.one_of(
            st.none(),
            st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "ingressNamespace": dns_label}),
        ),
    },
)
cilium_block = st.fixed_dictionaries(
    {},
    optional={
        "enabled": st.booleans(),
        "alerts": maybe_switch,
        "spec": cilium_spec,
        "policies": named(cilium_spec, alerts=True),
    },
)
values_file = st.fixed_dictionaries(
    {},
    optional={
        "networkPolicy": network_block,
        "ciliumNetworkPolicy": cilium_block,
        "extraLabels": labels.map(
            lambda found: {k: v for k, v in found.items() if k not in SHARED_LABEL_KEYS}
        ),
        "nameOverride": st.sampled_from(["", "web", "api-app", "auto-deploy-app", "x" * 60]),
        "replicaCount": st.integers(1, 3),
    },
)


def _a_string_to_yaml(name: str) -> bool:
    # A release YAML reads as a boolean or number (no, y, 1e3) makes the chart write non-string
    # labels: the model refuses it (tests/unit/test_chart_shapes_model.py), Helm renders it.
    from autodeploy_netpol.sources.goyaml import STR, plain_scalar

    return plain_scalar(name)[0] == STR and plain_scalar(f"{name}-canary")[0] == STR


deploy = st.fixed_dictionaries(
    {
        "release": st.one_of(dns_label, long_release).filter(_a_string_to_yaml),
        "track": st.sampled_from(["stable", "canary", "rollout"]),
        "project_id": st.one_of(st.none(), st.integers(1, 99_999_999).map(str)),
        "version": st.sampled_from(sorted(VERSIONS)),
    }
)


def nested(dotted: dict[str, str]) -> dict[str, Any]:
    """``{"gitlab.projectID": "7"}`` → ``{"gitlab": {"projectID": "7"}}`` (what ``--set`` builds)."""
    result: dict[str, Any] = {}
    for key, value in dotted.items():
        node = result
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return result


def switched_on(values: dict[str, Any], mode: int) -> dict[str, Any]:
    """Most examples should render something: mode 0 keeps the values as drawn, 1 turns the
    master switches on, 2 also the suggested and default-deny policies."""
    if mode >= 1:
        for block in ("networkPolicy", "ciliumNetworkPolicy"):
            values.setdefault(block, {})["enabled"] = True
    if mode >= 2:
        for extra in ("suggested", "defaultDeny"):
            if not isinstance(values["networkPolicy"].get(extra), dict):
                values["networkPolicy"][extra] = {}
            values["networkPolicy"][extra]["enabled"] = True
    return values


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(values=st.builds(switched_on, values_file, st.sampled_from([0, 1, 1, 2, 2])), context=deploy)
def test_the_model_renders_what_helm_renders(charts, values, context):
    release = (
        context["release"] if context["track"] == "stable" else f"{context['release']}-{context['track']}"
    )
    set_values = auto_deploy_set_values(
        release_override=context["release"], track=context["track"], project_id=context["project_id"]
    )
    helm_values = helm_merge_all(chart_defaults(context["version"]), values, nested(set_values))
    try:
        from_helm = [
            m.manifest
            for m in charts[context["version"]].render(values, HelmRelease(release, "ns", set_values))
        ]
    except InputError:
        # The real chart cannot render these values (auto-deploy-app < 2.40 with `alerts: null`):
        # the model must refuse them too rather than promise objects the deploy never creates.
        with pytest.raises(InputError):
            render_objects(helm_values, release=release, chart_version=context["version"])
        return
    from_model = render_objects(helm_values, release=release, chart_version=context["version"])
    event(f"objects rendered: {min(len(from_model), 4)}{'+' if len(from_model) >= 4 else ''}")
    # Compared as JSON text, so the key order must agree too: `render` and `render --chart`
    # print the same YAML byte for byte.
    assert [json.dumps(o) for o in from_helm] == [json.dumps(o) for o in from_model]


#: Keys whose order differs between byte order and the order Go's yaml package writes them in
#: (numbers inside keys compare as numbers; letters against digits and punctuation). Keys such as
#: a1b / a01 / a001b are left out: Go's comparison is not a consistent order for them, and Helm's
#: output then depends on Go's random map order (seen rendering the same values repeatedly).
TRICKY_KEYS = [
    "k10",
    "k8s-app",
    "k9",
    "k8s-app2",
    "a0",
    "a00",
    "a-b",
    "a_b",
    "a.b",
    "a/b",
    "ab",
    "a",
    "a9",
    "a10",
    "a1",
    "x2.io/y",
    "x10.io/y",
    "v1beta1",
    "v1alpha2",
    "b0",
    "b0a",
    "2x",
    "10x",
    "z-1",
    "z-10",
    "tier",
    "app.kubernetes.io/component",
    "app2.kubernetes.io",
]


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_label_and_selector_keys_are_written_in_go_yaml_order(charts, version):
    # A hypothesis example found the model writing `k10` before `k8s-app`, as byte order has it;
    # Helm's toYaml writes `k8s-app` first.
    labels = {key: "x" for key in TRICKY_KEYS}
    values = {
        "networkPolicy": {"enabled": True, "spec": {"podSelector": {"matchLabels": labels}}},
        "extraLabels": labels,
    }
    set_values = auto_deploy_set_values(release_override="a", track="stable", project_id=None)
    from_helm = [m.manifest for m in charts[version].render(values, HelmRelease("a", "ns", set_values))]
    helm_values = helm_merge_all(chart_defaults(version), values, nested(set_values))
    from_model = render_objects(helm_values, release="a", chart_version=version)
    assert [json.dumps(o) for o in from_helm] == [json.dumps(o) for o in from_model]
