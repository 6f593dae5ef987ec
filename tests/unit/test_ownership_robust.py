"""Whatever a snapshot holds, ownership gives verdicts or warnings - never a traceback."""

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ownership_fixtures import NAMESPACE, RELEASE, desired, live

from autodeploy_netpol.checks.ownership.conflicts import assess

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
field_keys = st.sampled_from(
    [
        "f:spec",
        "f:ingress",
        "f:podSelector",
        'k:{"port":80}',
        'v:"TCP"',
        "i:0",
        ".",
        "k:not-json",
        "f:metadata",
        "x:?",
    ]
)
tries = st.recursive(st.just({}), lambda inner: st.dictionaries(field_keys, inner, max_size=3), max_leaves=10)
entries = st.fixed_dictionaries(
    {},
    optional={
        "manager": st.one_of(
            st.sampled_from(["helm", "kubectl-edit", "rest-client", "argocd-controller"]), json_values
        ),
        "operation": st.sampled_from(["Update", "Apply"]),
        "time": st.one_of(
            st.sampled_from(["2024-03-01T10:00:00Z", "2030-01-01T00:00:00Z", "soon"]), json_values
        ),
        "fieldsType": st.sampled_from(["FieldsV1", "FieldsV2"]),
        "fieldsV1": st.one_of(tries.map(lambda t: {"f:spec": t}), json_values),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    managed=st.one_of(st.lists(st.one_of(entries, json_values), max_size=4), json_values),
    spec=st.one_of(
        json_values,
        st.dictionaries(
            st.sampled_from(["podSelector", "ingress", "egress", "policyTypes", "endpointSelector"]),
            json_values,
            max_size=4,
        ),
    ),
    labels=st.dictionaries(
        st.sampled_from(["chart", "release", "app.gitlab.com/proj", "app"]),
        st.one_of(st.text(max_size=20), st.integers()),
        max_size=4,
    ),
    kind=st.sampled_from(["NetworkPolicy", "CiliumNetworkPolicy"]),
)
def test_any_live_object_is_judged_without_crashing(managed, spec, labels, kind):
    obj = copy.deepcopy(live("helm-only")[0])
    obj["kind"] = kind
    obj["metadata"]["managedFields"] = managed
    obj["metadata"]["labels"] = labels
    obj["spec"] = spec
    ui = copy.deepcopy(live("ui-created")[1])
    ui["spec"] = spec
    report = assess(desired(), [obj, ui], release=RELEASE, namespace=NAMESPACE)
    assert len(report.verdicts) == 2
    for warning in report.warnings:
        warning.to_json()
