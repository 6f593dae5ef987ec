"""The connectivity engine against np-guard/netpol-analyzer's golden outputs (``../shared``).

Every connlist test and every semantic-diff pair of the corpus is run the way ``connectivity PATH``
and ``diff --before PATH --after PATH`` read their input, and compared with the golden file
(see netpol_analyzer.py for the canonical form). The counts per category are printed (``-s`` or
the captured output of a failure) and asserted:

- ``tiers`` (AdminNetworkPolicy / BaselineAdminNetworkPolicy, 56 connlist tests, 16 diff pairs)
  and ``networkpolicy`` (42 + 24): every one agrees;
- ``other`` (Routes/Ingresses, UserDefinedNetworks, VirtualMachines, multi-network objects —
  kinds the engine lists as not modelled): counted, not asserted; each run must not crash.
"""

from __future__ import annotations

import pytest
from netpol_analyzer import (
    NETWORK_POLICY,
    OTHER,
    TIERS,
    Outcome,
    check_connlist,
    check_diff,
    corpus_present,
    parse_connections,
    parse_diff,
    parse_node,
    read_index,
    tally,
)

from autodeploy_netpol.policy.intervals import ip_to_int

pytestmark = pytest.mark.skipif(
    not corpus_present(),
    reason="the netpol-analyzer corpus is not at ../shared/corpora/netpol-analyzer (../shared is absent)",
)

#: what must agree, per category: (connlist tests, diff pairs)
EXPECTED = {TIERS: (56, 16), NETWORK_POLICY: (42, 24)}


@pytest.fixture(scope="module")
def outcomes() -> tuple[list[Outcome], list[Outcome]]:
    connlist, diffs = read_index()
    return [check_connlist(case) for case in connlist], [check_diff(case) for case in diffs]


def _report(kind: str, results: list[Outcome]) -> str:
    counts = tally(results)
    lines = [f"{kind}: " + ", ".join(f"{name} {agree}/{total}" for name, (agree, total) in counts.items())]
    for outcome in results:
        if not outcome.agrees and outcome.category != OTHER:
            lines.append(f"  DISAGREES {outcome.category} {outcome.name}")
            lines += [f"      {detail}" for detail in outcome.detail[:5]]
    return "\n".join(lines)


def test_every_tier_and_networkpolicy_golden_output_agrees(
    outcomes: tuple[list[Outcome], list[Outcome]],
) -> None:
    connlist, diffs = outcomes
    report = _report("connlist", connlist) + "\n" + _report("diff", diffs)
    print("\nnetpol-analyzer corpus:\n" + report)
    connlist_counts, diff_counts = tally(connlist), tally(diffs)
    for category, (tests, pairs) in EXPECTED.items():
        assert connlist_counts[category] == (tests, tests), report
        assert diff_counts[category] == (pairs, pairs), report


def test_other_categories_run_without_crashing(outcomes: tuple[list[Outcome], list[Outcome]]) -> None:
    connlist, diffs = outcomes
    others = [outcome for outcome in (*connlist, *diffs) if outcome.category == OTHER]
    assert others, "the corpus has tests with Routes, UDNs and multi-network objects"
    crashed = [o.name for o in others if any(d.startswith("input error") for d in o.detail)]
    assert not crashed, crashed


def test_the_golden_file_parsers_read_every_form() -> None:
    assert parse_connections("All Connections").is_all()
    assert not parse_connections("No Connections")
    assert parse_connections("SCTP 1-65535,TCP 80,8080,UDP 53").describe() == "TCP 80,8080, UDP 53, SCTP all"
    assert parse_node("ns/web-5d4f9[ReplicaSet]") == ("ns/web-5d4f9", "ReplicaSet")
    assert parse_node("green[udn]/webserver[Pod]") == ("green/webserver", "Pod")
    assert parse_node("10.0.0.0-10.255.255.255[External]") == (
        (ip_to_int("10.0.0.0"), ip_to_int("10.255.255.255")),
        "External",
    )
    added, removed = parse_diff(
        "Connectivity diff:\n"
        "diff-type: changed, source: a/x[Pod], destination: b/y[Pod], ref1: TCP 1-100, ref2: TCP 50-200\n"
        "diff-type: added, source: a/x[Pod], destination: b/z[Pod], ref1: No Connections, ref2: UDP 53, "
        "workloads-diff-info: workload b/z[Pod] added\n"
    )
    assert added[("a/x", "b/y")].describe() == "TCP 101-200"
    assert removed[("a/x", "b/y")].describe() == "TCP 1-49"
    assert added[("a/x", "b/z")].describe() == "UDP 53"
