"""Numbers in rendered specs come out as Helm prints them (values go through JSON as float64)."""

import pytest

from autodeploy_netpol.desired.chart import CHART_DEFAULTS, render_objects
from autodeploy_netpol.desired.merge import helm_merge_all


@pytest.mark.parametrize(
    ("written", "rendered"),
    [(8.0, 8), (-0.0, 0), (80, 80), (8.5, 8.5), (1e21, 1e21), ("8080", "8080")],
)
def test_integral_floats_render_as_integers(written, rendered):
    spec = {"policyTypes": ["Ingress"], "ingress": [{"ports": [{"port": written}]}]}
    values = helm_merge_all(CHART_DEFAULTS, {"networkPolicy": {"enabled": True, "spec": spec}})
    [policy] = render_objects(values, release="r")
    port = policy["spec"]["ingress"][0]["ports"][0]["port"]
    assert port == rendered and type(port) is type(rendered)
