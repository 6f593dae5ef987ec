"""Flow readers: Hubble JSON (hand-written samples following flow.proto), CSV, gzip, malformed lines."""

from __future__ import annotations

import gzip
import json
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodeploy_netpol.errors import InputError
from autodeploy_netpol.sources.flows import (
    ENTITY,
    EXTERNAL,
    POD,
    SKIP_BLANK,
    SKIP_ESTABLISHED,
    SKIP_L7,
    SKIP_NOT_FLOW,
    SKIP_PROTOCOL,
    SKIP_REPLY,
    ReadStats,
    normalize_time,
    peer_from_labels,
    read_flows,
    workload_from_pod_name,
)

DATA = Path(__file__).parent.parent / "data" / "audit"
SAMPLE = DATA / "hubble-flows.jsonl"


def read(*paths: Path | str) -> tuple[list, ReadStats]:
    stats = ReadStats()
    return list(read_flows([str(p) for p in paths], stats)), stats


def test_hubble_sample_counts_new_connections_only():
    flows, stats = read(SAMPLE)
    assert stats.lines == 19
    assert len(flows) == stats.flows == 11
    assert stats.skipped == {
        SKIP_REPLY: 2,  # the SYN-ACK and the DNS answer
        SKIP_ESTABLISHED: 1,  # the PSH/ACK data packet
        SKIP_L7: 1,  # the DNS proxy record
        SKIP_NOT_FLOW: 2,  # node_status, lost_events
        SKIP_PROTOCOL: 1,  # ICMP echo
        SKIP_BLANK: 1,
    }
    assert stats.malformed == 0


def test_hubble_sample_peers_and_fields():
    flows, _ = read(SAMPLE)
    first = flows[0]
    assert (first.source.workload, first.destination.workload, first.protocol, first.port) == (
        "shop/web",
        "shop/api",
        "TCP",
        8080,
    )
    assert first.source.kind == POD
    # Cilium-derived labels are not pod labels; namespace labels are kept apart.
    assert first.source.labels == (("app", "web"), ("tier", "frontend"))
    assert first.source.namespace_labels == (("kubernetes.io/metadata.name", "shop"), ("team", "payments"))
    assert first.time == "2026-11-20T10:15:02.123456789Z"
    dns = flows[1]
    assert (dns.destination.workload, dns.protocol, dns.port) == ("kube-system/coredns", "UDP", 53)
    assert dns.destination.labels == (("k8s-app", "kube-dns"),)
    world = flows[2]
    assert (world.destination.kind, world.destination.ip, world.destination.workload) == (
        EXTERNAL,
        "93.184.216.34",
        "world 93.184.216.34",
    )
    host, apiserver = flows[3], flows[4]
    assert (host.source.kind, host.source.entity) == (ENTITY, "host")
    # kube-apiserver identities also carry reserved:remote-node; the specific entity wins.
    assert (apiserver.destination.kind, apiserver.destination.entity) == (ENTITY, "kube-apiserver")
    assert [flow.verdict for flow in flows[5:7]] == ["DROPPED", "AUDIT"]
    assert flows[5].source.workload == "shop/worker"
    bare = flows[7]  # top-level flow with numeric enums (older `hubble observe -o json`)
    assert (bare.verdict, bare.source.workload, bare.destination.workload) == (
        "FORWARDED",
        "shop/web",
        "shop/api",
    )
    camel = flows[8]  # lowerCamelCase names and a {"seconds","nanos"} timestamp
    assert (camel.port, camel.destination.workload) == (5432, "shop/postgres")
    assert camel.time.endswith(".000000005Z")
    remote = flows[9]
    assert (remote.source.entity, remote.time) == ("remote-node", "2026-11-20T08:18:00.000000000Z")
    cidr = flows[10]
    assert (cidr.source.kind, cidr.source.ip) == (EXTERNAL, "203.0.113.50")


def test_same_endpoint_text_gives_the_same_peer_object():
    flows, _ = read(SAMPLE)
    assert flows[0].source is flows[1].source  # web, from two lines


def test_gzip_is_detected_by_content(tmp_path):
    packed = tmp_path / "flows.log"  # no .gz suffix on purpose
    packed.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    flows, stats = read(packed)
    plain_flows, _ = read(SAMPLE)
    assert flows == plain_flows
    assert stats.lines == 19


def test_malformed_lines_are_counted_with_line_numbers(tmp_path):
    good = SAMPLE.read_text().splitlines()[0]
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join(
            [
                good,
                '{"flow": {"time": "2026-11-20T10:15:02Z", "l4": {"TCP": {"destination_port": "http"}}}}',
                "this is not json",
                good[:200],
                good.replace('"time":"2026-11-20T10:15:02.123456789Z"', '"time":"yesterday"', 1),
                good.replace('"destination":"10.244.2.47"', '"destination":"10.244.2.47"', 1),
                '{"flow": {"IP": {"destination": "not-an-ip"}, "l4": {"UDP": {"destination_port": 53}}, '
                '"destination": {"labels": ["reserved:world"]}}}',
                '{"flow": {"l4": {"TCP": {"destination_port": 70000, "flags": {"SYN": true}}}}}',
            ]
        )
        + "\n"
    )
    flows, stats = read(path)
    assert len(flows) == 2
    assert stats.malformed == 6
    assert [bad.line for bad in stats.malformed_examples] == [2, 3, 4, 5, 7, 8]
    assert "destination_port" in stats.malformed_examples[0].message
    assert "RFC 3339" in stats.malformed_examples[3].message
    assert "out of range" in stats.malformed_examples[5].message


def test_a_file_with_no_readable_line_is_an_input_error(tmp_path):
    path = tmp_path / "garbage.jsonl"
    path.write_text('{"oops"\n{not json either\n')
    with pytest.raises(InputError) as info:
        read(path)
    assert "no line of it is a flow (2 lines read" in info.value.message
    assert "line 1" in info.value.message


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        read(tmp_path / "absent.jsonl")


CSV_TEXT = """\
src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,protocol,port,time,verdict
shop,app=web;tier=frontend,shop,app=api,,TCP,8080,2026-11-20T10:00:00Z,FORWARDED
shop,app=api,,,93.184.216.34,tcp,443,,
,reserved:host,shop,k8s:app=api,,6,8080,,
shop,app=web,kube-system,k8s-app=kube-dns,,UDP,53,,
shop,app=web,shop,app=api,,ICMP,0,,
shop,app=web,shop,app=api,,TCP,http,,
shop,app=web,shop,app=api,,GRE,1,,
"""


def test_csv_with_header(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(CSV_TEXT)
    flows, stats = read(path)
    assert [(f.source.workload, f.destination.workload, f.protocol, f.port) for f in flows] == [
        ("shop/web", "shop/api", "TCP", 8080),
        ("shop/api", "world 93.184.216.34", "TCP", 443),
        ("host", "shop/api", "TCP", 8080),
        ("shop/web", "kube-system/kube-dns", "UDP", 53),
    ]
    assert flows[0].source.labels == (("app", "web"), ("tier", "frontend"))
    assert (flows[0].time, flows[0].verdict) == ("2026-11-20T10:00:00.000000000Z", "FORWARDED")
    assert stats.skipped[SKIP_PROTOCOL] == 1
    assert [bad.line for bad in stats.malformed_examples] == [7, 8]


def test_csv_without_header_uses_the_documented_order(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text("shop,app=web,shop,app=api,,TCP,8080\nshop,app=web,shop\n")
    flows, stats = read(path)
    assert [(f.destination.workload, f.port) for f in flows] == [("shop/api", 8080)]
    assert stats.malformed == 1 and "columns" in stats.malformed_examples[0].message


def test_several_files_in_order(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text("shop,app=web,shop,app=api,,TCP,8080\n")
    flows, stats = read(SAMPLE, path)
    assert len(flows) == 12 and stats.files == [str(SAMPLE), str(path)]


@pytest.mark.parametrize(
    ("pod_name", "workload"),
    [
        ("web-7d9f8b6c5-x2k9p", "web"),
        ("production-postgres-0", "production-postgres"),
        ("fluentd-x7k2q", "fluentd"),
        ("web-proxy", "web-proxy"),  # "proxy" is not a generated suffix (vowels)
        ("standalone", "standalone"),
    ],
)
def test_workload_from_pod_name(pod_name, workload):
    assert workload_from_pod_name(pod_name) == workload


@pytest.mark.parametrize(
    ("labels", "identity", "kind", "entity"),
    [
        (["reserved:world"], 2, EXTERNAL, "world"),
        (["reserved:world-ipv6"], 10, EXTERNAL, "world"),
        ([], 2, EXTERNAL, "world"),
        ([], 7, ENTITY, "kube-apiserver"),
        (["reserved:health"], 4, ENTITY, "health"),
        (["reserved:ingress"], 8, ENTITY, "ingress"),
        (["cidr:10.0.0.0/8", "reserved:world"], 16777300, EXTERNAL, "world"),
        (["fqdn:api.example.com", "reserved:world"], 16777301, EXTERNAL, "world"),
        (["k8s:app=web"], 31000, POD, ""),
    ],
)
def test_reserved_identities(labels, identity, kind, entity):
    peer = peer_from_labels("shop" if kind == POD else "", labels, identity=identity, ip="203.0.113.1")
    assert (peer.kind, peer.entity) == (kind, entity)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T10:15:02.123456789Z", "2026-11-20T10:15:02.123456789Z"),
        ("2026-11-20T10:15:02Z", "2026-11-20T10:15:02.000000000Z"),
        ("2026-11-20T10:15:02.5Z", "2026-11-20T10:15:02.500000000Z"),
        ("2026-11-20T00:15:02.25+01:00", "2026-11-19T23:15:02.250000000Z"),
    ],
)
def test_normalize_time(text, expected):
    assert normalize_time(text) == expected


@given(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2999, 12, 31)),
    st.integers(0, 999_999_999),
)
def test_normalized_times_sort_like_the_instants(moment, nanos):
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    short = normalize_time(f"{base}Z")
    fine = normalize_time(f"{base}.{nanos:09d}".rstrip("0").rstrip(".") + "Z")
    assert short <= fine
    assert fine[:19] == short[:19]


@given(
    st.one_of(
        st.text(min_size=1, max_size=300),
        st.recursive(
            st.none() | st.integers() | st.text(),
            lambda c: (
                st.lists(c)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "flow",
                            "l4",
                            "TCP",
                            "source",
                            "IP",
                            "time",
                            "destination_port",
                            "labels",
                            "verdict",
                            "is_reply",
                        ]
                    ),
                    c,
                )
            ),
        ).map(json.dumps),
    )
)
def test_any_line_is_read_or_reported_never_raised(text):
    garbage = text.replace("\n", " ")
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as handle:
        handle.write(SAMPLE.read_text().splitlines()[0] + "\n" + garbage + "\n")
    stats = ReadStats()
    flows = list(read_flows([handle.name], stats))
    Path(handle.name).unlink()
    assert len(flows) == 1
    assert stats.malformed + sum(stats.skipped.values()) == 1


@pytest.mark.parametrize("seed", range(4))
def test_reply_prefilter_changes_nothing_but_speed(tmp_path, seed):
    import random

    from audit_support import generate_cluster, hubble_line, random_peer

    from autodeploy_netpol.sources.flows import PeerTable, read_hubble

    cluster = generate_cluster(seed)
    rng = random.Random(seed)
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    for second in range(300):
        source, destination = random_peer(rng, cluster), random_peer(rng, cluster)
        reply, established = rng.random() < 0.4, rng.random() < 0.3
        protocol, port = rng.choice([("TCP", 443), ("TCP", 8080), ("UDP", 53), ("SCTP", 9000)])
        text = hubble_line(
            cluster,
            source,
            destination,
            protocol,
            port,
            second=second,
            reply=reply,
            established=established,
            wrapped=rng.random() < 0.7,
        )
        twist = rng.random()
        if twist < 0.1:  # SYN-ACK that says it is not a reply
            text = text.replace('"flags":{"SYN":true}', '"flags":{"SYN":true,"ACK":true}')
        elif twist < 0.2:  # a proxy record with TCP flags
            text = text.replace('"Type":"L3_L4"', '"Type":"L7"')
        elif twist < 0.25:
            text = text.replace('"verdict":"FORWARDED"', '"verdict":"TRANSLATED"')
        lines.append(text.encode() + b"\n")
    results = []
    for prefilter in (True, False):
        stats = ReadStats()
        flows = list(read_hubble(enumerate(lines, 1), "x", stats, PeerTable(), prefilter=prefilter))
        results.append((flows, stats.skipped, stats.malformed, stats.lines))
    assert results[0] == results[1]
    assert results[0][1][SKIP_REPLY] > 100 and results[0][1][SKIP_ESTABLISHED] > 20


def test_csv_from_a_spreadsheet_with_bom_and_crlf(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_bytes("\ufeff".encode() + CSV_TEXT.replace("\n", "\r\n").encode())
    flows, stats = read(path)
    assert len(flows) == 4 and stats.malformed == 2


# Issue 13: each of these used to kill the audit with a traceback; a malformed line is never fatal.


@pytest.mark.parametrize("time", ["9999-12-31T23:59:60Z", "0000-01-01T00:00:00Z", "2026-13-45T10:00:00Z", "1e400"])
def test_an_out_of_range_timestamp_is_one_malformed_line(tmp_path, time):
    good = SAMPLE.read_text().splitlines()[0]
    path = tmp_path / "flows.jsonl"
    path.write_text(good + "\n" + good.replace('"2026-11-20T10:15:02.123456789Z"', json.dumps(time), 1) + "\n" + good + "\n")
    flows, stats = read(path)
    assert len(flows) == 2 and stats.malformed == 1
    assert stats.malformed_examples[0].line == 2


def test_a_csv_field_over_128_kib_is_one_malformed_line(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(
        "shop,app=web,shop,app=api,,TCP,8080\n"
        f"shop,app={'w' * 200_000},shop,app=api,,TCP,8080\n"
        "shop,app=web,shop,app=api,,TCP,8081\n"
    )
    flows, stats = read(path)
    assert len(flows) == 2 and stats.malformed == 1
    assert stats.malformed_examples[0].line == 2


@pytest.mark.parametrize("damage", ["truncated", "garbage", "crc"])
def test_a_corrupt_gzip_keeps_what_was_read_and_reports_the_rest(tmp_path, damage):
    body = gzip.compress(SAMPLE.read_bytes())
    if damage == "truncated":
        body = body[: len(body) * 2 // 3]
    elif damage == "garbage":
        body = body[: len(body) // 2] + b"\x00garbage" * 8 + body[len(body) // 2 :]
    else:  # the trailer's CRC
        body = body[:-8] + bytes(8)
    path = tmp_path / "flows.jsonl.gz"
    path.write_bytes(body)
    flows, stats = read(path)
    assert stats.malformed >= 1  # the damage is a reported line, not an exception
    assert any("gzip" in bad.message or "compressed" in bad.message for bad in stats.malformed_examples)
    assert len(flows) <= len(read(SAMPLE)[0])  # what was inflated before the damage, at most
