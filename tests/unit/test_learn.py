"""The learner (checks/learn): what it proposes for hand-made recordings, and its proof."""

from __future__ import annotations

import ipaddress
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodeploy_netpol.checks.learn import FlowRecorder, LearnSettings, learn_policy, prove
from autodeploy_netpol.checks.learn.cidrs import join_blocks, parse_prefix_bound
from autodeploy_netpol.checks.learn.record import MAX_BLOCKS, AddressTally
from autodeploy_netpol.desired.chart import DEFAULT_DENY_SPEC
from autodeploy_netpol.errors import InputError
from autodeploy_netpol.policy import Endpoint, Model
from autodeploy_netpol.sources.flows import ENTITY, POD, Flow, Peer, ReadStats, external_peer

RELEASES = ["production", "production-canary", "production-rollout"]
T0 = "2026-11-20T10:00:00.000000000Z"


def pod(
    namespace: str, workload: str, labels: dict[str, str], ns_labels: dict[str, str] | None = None
) -> Peer:
    return Peer(
        POD,
        workload=f"{namespace}/{workload}",
        namespace=namespace,
        labels=tuple(sorted(labels.items())),
        namespace_labels=tuple(sorted((ns_labels or {}).items())),
    )


def web(track: str = "stable", template_hash: str = "7d9f8b6c5") -> Peer:
    release = "production" if track == "stable" else f"production-{track}"
    return pod(
        "shop",
        release,
        {
            "app": "production",
            "tier": "web",
            "track": track,
            "release": release,
            "chart": "auto-deploy-app-2.80.1",
            "heritage": "Helm",
            "app.kubernetes.io/name": "production",
            "app.kubernetes.io/instance": release,
            "app.kubernetes.io/managed-by": "Helm",
            "helm.sh/chart": "auto-deploy-app-2.80.1",
            "pod-template-hash": template_hash,
        },
    )


def worker(name: str = "mailer", track: str = "stable") -> Peer:
    release = "production" if track == "stable" else f"production-{track}"
    return pod(
        "shop",
        f"{release}-{name}",
        {
            "tier": "worker",
            "track": track,
            "release": release,
            "worker": name,
            "pod-template-hash": "5c8d7f9b4d",
        },
    )


API = pod("shop", "api", {"app": "api", "pod-template-hash": "abcde12345"})
API_OTHER_REVISION = pod("shop", "api", {"app": "api", "pod-template-hash": "fghjk67890"})
NGINX = pod(
    "ingress-nginx",
    "ingress-nginx-controller",
    {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
)
PROMETHEUS = pod(
    "monitoring", "prometheus", {"app": "prometheus", "statefulset.kubernetes.io/pod-name": "prometheus-0"}
)
COREDNS = pod("kube-system", "coredns", {"k8s-app": "kube-dns", "pod-template-hash": "5d78c9869d"})
HOST = Peer(ENTITY, workload="host", entity="host")
APISERVER = Peer(ENTITY, workload="kube-apiserver", entity="kube-apiserver")


def flow(
    source: Peer,
    destination: Peer,
    protocol: str = "TCP",
    port: int = 8080,
    time: str = T0,
    verdict: str = "FORWARDED",
) -> Flow:
    return Flow(source, destination, protocol, port, time, verdict)


def learn(flows, live=None, **options):
    settings = LearnSettings(release="production", **{"namespace": "shop", **options})
    recorder = FlowRecorder(
        settings.helm_releases,
        settings.namespace,
        cidr_prefix4=settings.cidr_prefix4,
        cidr_prefix6=settings.cidr_prefix6,
    )
    recorder.run(flows)
    observations = recorder.observations(ReadStats())
    learned = learn_policy(observations, settings, live)
    return learned, prove(learned, observations, live), observations


def component(learned, name):
    return next(
        obj
        for obj in learned.objects
        if obj.component and obj.component.name == name and obj.kind == "NetworkPolicy"
    )


def spec(learned, name):
    return component(learned, name).spec("shop")


def allowed(objects, source: Endpoint, destination: Endpoint, protocol="TCP", port=8080) -> bool:
    return Model.from_objects(objects).verdict(source, destination, protocol, port).allowed


def endpoint(peer: Peer) -> Endpoint:
    return Endpoint.pod(peer.namespace, dict(peer.labels))


# ---------------------------------------------------------------------------------------------
# The app: web and worker pods of every track


def test_the_main_policy_isolates_every_pod_of_every_track_web_and_workers():
    learned, proof, _ = learn([flow(API, web()), flow(API, worker(), port=9000)])
    main = learned.values()["networkPolicy"]
    assert main["enabled"] is False  # disabled, like every suggestion
    assert main["spec"]["podSelector"] == {
        "matchExpressions": [{"key": "release", "operator": "In", "values": RELEASES}]
    }
    assert main["spec"]["ingress"] == []  # written out: Helm would keep the chart's default list
    assert main["spec"]["policyTypes"] == ["Ingress"]
    objects = learned.manifests()
    # a worker of the rollout track the recording never saw is isolated, not left open
    rollout_worker = endpoint(worker("sync", "rollout"))
    assert not allowed(objects, endpoint(API), rollout_worker, port=9000)
    assert proof.passed


def test_tracks_of_a_component_are_one_policy_and_workers_are_not_web():
    learned, proof, _ = learn(
        [
            flow(API, web()),
            flow(API, web("canary", "0a0a0a0a0")),
            flow(NGINX, worker("mailer", "canary"), port=9000),
        ]
    )
    names = [c.name for c in learned.components]
    assert names == ["mailer", "web"]
    web_spec = spec(learned, "web")
    assert web_spec["podSelector"] == {
        "matchLabels": {"app": "production", "tier": "web"},
        "matchExpressions": [{"key": "release", "operator": "In", "values": RELEASES}],
    }
    assert spec(learned, "mailer")["podSelector"]["matchLabels"] == {"tier": "worker", "worker": "mailer"}
    # the stable worker gets what the canary worker was seen receiving; the web pods do not
    objects = learned.manifests()
    assert allowed(objects, endpoint(NGINX), endpoint(worker("mailer")), port=9000)
    assert not allowed(objects, endpoint(NGINX), endpoint(web()), port=9000)
    assert proof.passed


def test_object_names_follow_the_release_of_each_track():
    learned, _, _ = learn([flow(API, web())])
    custom = learned.values()["customResources"]
    assert [c["metadata"]["name"] for c in custom] == ["{{ .Release.Name }}-learned-web"]
    assert [o["metadata"]["name"] for o in learned.manifests()] == [
        "production-auto-deploy",
        "production-learned-web",
    ]
    assert [o["metadata"]["name"] for o in learned.manifests("production-canary")] == [
        "production-canary-auto-deploy",
        "production-canary-learned-web",
    ]
    assert {o["metadata"]["namespace"] for o in learned.manifests()} == {"shop"}


# ---------------------------------------------------------------------------------------------
# Peers


def test_per_pod_and_version_labels_are_left_out_and_revisions_are_one_peer():
    learned, _, _ = learn(
        [flow(API, web()), flow(API_OTHER_REVISION, web()), flow(PROMETHEUS, web(), port=9090)]
    )
    rules = component(learned, "web").ingress
    peers = [entry.selector.labels for rule in rules for entry in rule.peers]
    assert (("app", "api"),) in peers
    assert (("app", "prometheus"),) in peers  # statefulset.kubernetes.io/pod-name left out
    api_rule = next(rule for rule in rules if rule.peers[0].selector.labels == (("app", "api"),))
    assert api_rule.coverage.flows == 2 and len(api_rule.peers) == 1


def test_other_namespaces_are_selected_by_their_name_label():
    learned, _, _ = learn([flow(NGINX, web())])
    assert spec(learned, "web")["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
                    "podSelector": {
                        "matchLabels": {
                            "app.kubernetes.io/component": "controller",
                            "app.kubernetes.io/name": "ingress-nginx",
                        }
                    },
                }
            ],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }
    ]


def test_same_namespace_peers_need_no_namespace_selector_and_app_peers_use_components():
    learned, _, _ = learn([flow(worker(), web()), flow(API, web())])
    peers = [peer for rule in spec(learned, "web")["ingress"] for peer in rule["from"]]
    assert {"podSelector": {"matchLabels": {"app": "api"}}} in peers
    assert {
        "podSelector": {
            "matchLabels": {"tier": "worker", "worker": "mailer"},
            "matchExpressions": [{"key": "release", "operator": "In", "values": RELEASES}],
        }
    } in peers


def test_reserved_identities_become_cilium_entities_and_outside_addresses_cidrs():
    learned, proof, _ = learn(
        [
            flow(HOST, web(), port=8080),
            flow(external_peer("203.0.113.7"), web(), port=443),
            flow(external_peer(""), web(), port=80),  # world without an address in the recording
            flow(web(), APISERVER, port=443),
            flow(web(), external_peer("198.51.100.20"), port=443),
        ],
        egress=True,
    )
    cilium = next(obj for obj in learned.objects if obj.kind == "CiliumNetworkPolicy").spec("shop")
    assert cilium["ingress"] == [
        {"fromEntities": ["host"], "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]},
        {"fromEntities": ["world"], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]},
    ]
    assert cilium["egress"] == [
        {"toEntities": ["kube-apiserver"], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}
    ]
    web_spec = spec(learned, "web")
    assert web_spec["ingress"] == [
        {"from": [{"ipBlock": {"cidr": "203.0.113.7/32"}}], "ports": [{"protocol": "TCP", "port": 443}]}
    ]
    assert web_spec["egress"] == [
        {"to": [{"ipBlock": {"cidr": "198.51.100.20/32"}}], "ports": [{"protocol": "TCP", "port": 443}]}
    ]
    assert proof.passed


def test_peers_with_the_same_ports_share_a_rule_and_a_wider_peer_takes_in_a_narrower_one():
    narrower = pod("shop", "api-batch", {"app": "api", "role": "batch"})
    learned, _, _ = learn(
        [flow(API, web()), flow(narrower, web()), flow(NGINX, web()), flow(PROMETHEUS, web(), port=9090)]
    )
    rules = component(learned, "web").ingress
    assert [[str(p) for p in rule.ports] for rule in rules] == [["TCP 8080"], ["TCP 9090"]]
    first = rules[0]
    assert [entry.selector.labels for entry in first.peers] == [
        (("app", "api"),),
        (("app.kubernetes.io/component", "controller"), ("app.kubernetes.io/name", "ingress-nginx")),
    ]
    assert first.peers[0].coverage.flows == 2  # shop/api-batch folded into app=api
    assert set(first.peers[0].names) == {"shop/api", "shop/api-batch"}


def test_a_peer_without_stable_labels_is_named_as_such():
    bare = pod("shop", "debug", {"pod-template-hash": "abcde12345"})
    learned, _, _ = learn([flow(bare, web())])
    entry = component(learned, "web").ingress[0].peers[0]
    assert entry.selector.labels == () and "every pod of the namespace" in entry.note


# ---------------------------------------------------------------------------------------------
# Ports


def test_ports_are_as_recorded_and_become_ranges_only_when_asked():
    flows = [flow(API, web(), port=port) for port in (8080, 8081, 8082, 9090)] + [
        flow(API, web(), "UDP", 8083)
    ]
    exact, proof, _ = learn(flows)
    assert [str(p) for p in component(exact, "web").ingress[0].ports] == [
        "TCP 8080",
        "TCP 8081",
        "TCP 8082",
        "TCP 9090",
        "UDP 8083",
    ]
    assert proof.slack_count == 0
    merged, _, _ = learn(flows, merge_port_ranges=True)
    assert spec(merged, "web")["ingress"][0]["ports"] == [
        {"protocol": "TCP", "port": 8080, "endPort": 8082},
        {"protocol": "TCP", "port": 9090},
        {"protocol": "UDP", "port": 8083},
    ]


# ---------------------------------------------------------------------------------------------
# Egress and DNS


def test_dns_to_kube_dns_is_kept_with_egress_even_without_a_dns_flow_and_said_so():
    learned, proof, _ = learn([flow(web(), API, port=8080)], egress=True)
    main = learned.main.spec("shop")
    assert main["policyTypes"] == ["Ingress", "Egress"]
    assert main["egress"] == DEFAULT_DENY_SPEC["egress"]  # the one DNS rule of the project
    assert learned.dns.flows == 0
    assert any("no DNS flow" in note for note in learned.notes)
    assert proof.passed


def test_recorded_dns_is_covered_by_the_dns_rule_not_repeated():
    learned, proof, _ = learn(
        [flow(web(), COREDNS, "UDP", 53), flow(worker(), COREDNS, "TCP", 53)], egress=True
    )
    assert learned.dns.flows == 2
    assert learned.extra_objects == ()  # nothing but DNS: no component policy
    assert not any("no DNS flow" in note for note in learned.notes)
    assert proof.passed


def test_without_egress_outbound_flows_are_counted_not_learned():
    learned, proof, _ = learn([flow(web(), API), flow(web(), external_peer("198.51.100.1"), port=443)])
    assert "Egress" not in learned.main.spec("shop")["policyTypes"]
    assert learned.egress_not_learned.flows == 2
    assert any("egress stays open" in note for note in learned.notes)
    assert learned.extra_objects == ()
    assert proof.passed


# ---------------------------------------------------------------------------------------------
# Outside addresses


def test_the_prefix_bound_widens_every_address_to_its_block():
    flows = [flow(external_peer(f"203.0.113.{i}"), web(), port=443) for i in (7, 9, 200)]
    learned, proof, _ = learn(flows, cidr_prefix4=24)
    assert spec(learned, "web")["ingress"][0]["from"] == [{"ipBlock": {"cidr": "203.0.113.0/24"}}]
    assert proof.passed
    assert any(entry.reason == "addresses not recorded" for entry in proof.slack)


def test_max_cidrs_joins_the_closest_blocks_first_and_the_slack_says_what_that_opens():
    ips = ["203.0.113.7", "203.0.113.9", "198.51.100.20"]
    learned, proof, _ = learn([flow(external_peer(ip), web(), port=443) for ip in ips], max_cidrs=2)
    cidrs = [peer["ipBlock"]["cidr"] for peer in spec(learned, "web")["ingress"][0]["from"]]
    assert cidrs == ["198.51.100.20/32", "203.0.113.0/28"]
    assert proof.passed
    assert "203.0.113.0/28" in {entry.source for entry in proof.slack} or any(
        "203.0.113." in entry.source for entry in proof.slack
    )
    note = next(
        e.note
        for r in component(learned, "web").ingress
        for e in r.peers
        if e.selector.cidr == "203.0.113.0/28"
    )
    assert "widened from 2 recorded blocks" in note


def test_join_blocks_merges_without_loss_and_keeps_families_apart():
    nets = [
        ipaddress.ip_network(n)
        for n in ("10.0.0.0/25", "10.0.0.128/25", "2001:db8::/64", "2001:db8:0:1::/64")
    ]
    assert [str(n) for n in join_blocks(nets, 16)] == ["10.0.0.0/24", "2001:db8::/63"]
    assert [str(n) for n in join_blocks(nets, 1)] == ["10.0.0.0/24", "2001:db8::/63"]  # one per family


@given(
    st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=8),
    st.randoms(use_true_random=False),
)
def test_joined_blocks_cover_every_address_stay_within_the_limit_and_ignore_order(addresses, limit, rng):
    nets = [ipaddress.ip_network((address, 32)) for address in addresses]
    joined = join_blocks(nets, limit)
    assert len(joined) <= limit
    assert all(any(net.subnet_of(block) for block in joined) for net in nets)
    shuffled = list(nets)
    rng.shuffle(shuffled)
    assert join_blocks(shuffled, limit) == joined


@settings(max_examples=20)  # each example is hundreds of addresses
@given(
    st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=MAX_BLOCKS, max_size=MAX_BLOCKS * 3),
    st.randoms(use_true_random=False),
)
def test_widened_address_blocks_depend_on_the_set_of_addresses_only(addresses, rng):
    def blocks(order):
        tally = AddressTally(32, 128)
        for address in order:
            tally.block(str(ipaddress.ip_address(address)))[0].flows += 1
        return [(str(net), t.flows) for net, t in tally.networks()]

    shuffled = list(addresses)
    rng.shuffle(shuffled)
    first = blocks(addresses)
    assert len(first) <= MAX_BLOCKS
    assert blocks(shuffled) == first
    assert sum(count for _, count in first) == len(addresses)


def test_prefix_bound_parsing():
    assert parse_prefix_bound("24") == (24, 128)
    assert parse_prefix_bound("24,64") == (24, 64)
    for bad in ("33", "24,129", "a", "1,2,3", "-1"):
        with pytest.raises(ValueError):
            parse_prefix_bound(bad)


# ---------------------------------------------------------------------------------------------
# Live state


def deployment(name: str, labels: dict[str, str], namespace: str = "shop") -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": []}}},
    }


def test_live_workloads_name_peers_and_components_the_recording_never_saw_are_listed():
    live = [
        deployment("production", dict(web().labels)),
        deployment(
            "production-sidekiq",
            {"tier": "worker", "track": "stable", "release": "production", "worker": "sidekiq"},
        ),
        deployment("api-server", {"app": "api", "pod-template-hash": "zzz"}),
    ]
    learned, proof, _ = learn([flow(API, web())], live=live)
    sidekiq = next(c for c in learned.components if c.name == "sidekiq")
    assert not sidekiq.observed and sidekiq.workloads == ("shop/production-sidekiq",)
    assert any("no traffic recorded for sidekiq" in note for note in learned.notes)
    assert component(learned, "web").ingress[0].peers[0].names == ("shop/api-server",)
    assert proof.passed


def test_what_live_policies_already_allow_is_not_repeated():
    keep = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-monitoring", "namespace": "shop"},
        "spec": {
            "podSelector": {"matchLabels": {"tier": "web"}},
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
                    ],
                    "ports": [{"port": 9090}],
                }
            ],
        },
    }
    # the release's own old policy is replaced by the deploy: what it allows does not count
    old = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "production-auto-deploy",
            "namespace": "shop",
            "annotations": {
                "meta.helm.sh/release-name": "production",
                "meta.helm.sh/release-namespace": "shop",
            },
        },
        "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]},
    }
    learned, proof, _ = learn([flow(PROMETHEUS, web(), port=9090), flow(API, web())], live=[keep, old])
    rules = component(learned, "web").ingress
    assert [rule.peers[0].selector.labels for rule in rules] == [(("app", "api"),)]
    assert [(a.source, a.destination, a.port, a.policies) for a in learned.already_allowed] == [
        ("monitoring/prometheus", "shop/production", 9090, ("shop/allow-monitoring",))
    ]
    assert proof.passed


def test_a_live_deny_rule_makes_the_proof_fail():
    deny = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "deny-api", "namespace": "shop"},
        "spec": {
            "endpointSelector": {"matchLabels": {"tier": "web"}},
            "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"app": "api"}}]}],
        },
    }
    _, proof, _ = learn([flow(API, web()), flow(NGINX, web())], live=[deny])
    assert not proof.passed
    assert proof.audit.would_drop == 1
    assert [(g.source, g.destination) for g in proof.audit.dropped_groups] == [
        ("shop/api", "shop/production")
    ]


# ---------------------------------------------------------------------------------------------
# Determinism, errors


def test_the_same_recording_in_any_order_gives_the_same_suggestion():
    flows = (
        [flow(API, web(), port=8080, time=f"2026-11-20T10:00:{i:02d}.000000000Z") for i in range(10)]
        + [flow(NGINX, web(), port=port) for port in (80, 443)]
        + [flow(external_peer(f"198.51.100.{i}"), worker(), port=25) for i in range(40)]
        + [flow(HOST, worker(), port=9000)]
    )
    first, first_proof, _ = learn(flows, max_cidrs=3)
    shuffled = list(flows)
    random.Random(4).shuffle(shuffled)
    second, second_proof, _ = learn(shuffled, max_cidrs=3)
    assert first.values() == second.values()
    assert first.manifests() == second.manifests()
    assert first_proof.slack == second_proof.slack
    assert component(first, "web").ingress[0].coverage.first == "2026-11-20T10:00:00.000000000Z"
    assert component(first, "web").ingress[0].coverage.last == "2026-11-20T10:00:09.000000000Z"


def test_no_flow_of_the_release_is_an_input_error_naming_the_releases_seen():
    other = pod("shop", "staging", {"app": "staging", "release": "staging"})
    with pytest.raises(InputError) as caught:
        learn([flow(API, other)])
    assert "no recorded flow involves a pod of release 'production'" in caught.value.message
    assert "staging" in (caught.value.hint or "")


def test_pods_of_the_release_in_several_namespaces_need_a_namespace():
    elsewhere = pod("shop-2", "production", dict(web().labels))
    with pytest.raises(InputError) as caught:
        learn([flow(API, web()), flow(API, elsewhere)], namespace=None)
    assert "2 namespaces" in caught.value.message and "--namespace" in (caught.value.hint or "")
    learned, _, _ = learn([flow(API, web())], namespace=None)
    assert learned.namespace == "shop"


def test_flows_that_do_not_involve_the_app_are_counted_and_change_nothing():
    _, proof, observations = learn([flow(API, web()), flow(API, NGINX), flow(NGINX, API)])
    assert observations.unrelated.flows == 2
    assert proof.flows == 1


def test_ipv6_addresses_have_their_own_prefix_bound():
    flows = [
        flow(external_peer("2001:db8::7"), web(), port=443),
        flow(external_peer("2001:db8::9"), web(), port=443),
        flow(external_peer("203.0.113.7"), web(), port=443),
    ]
    exact, proof, _ = learn(flows)
    assert [p["ipBlock"]["cidr"] for p in spec(exact, "web")["ingress"][0]["from"]] == [
        "203.0.113.7/32",
        "2001:db8::7/128",
        "2001:db8::9/128",
    ]
    assert proof.passed
    widened, proof, _ = learn(flows, cidr_prefix4=24, cidr_prefix6=64)
    assert [p["ipBlock"]["cidr"] for p in spec(widened, "web")["ingress"][0]["from"]] == [
        "203.0.113.0/24",
        "2001:db8::/64",
    ]
    assert proof.passed
