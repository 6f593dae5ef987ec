"""The per-flow engine: Kubernetes NetworkPolicy and Cilium L3/L4 semantics, case by case."""

from __future__ import annotations

from typing import Any

import pytest

from autodeploy_netpol.policy import Endpoint, Model, PolicyError
from autodeploy_netpol.policy.intervals import ConnectionSet, IntervalSet


def np(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def cnp(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "CiliumNetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def ns(name: str, **labels: str) -> dict[str, Any]:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels}}


WEB = Endpoint.pod("shop", {"app": "web"})
API = Endpoint.pod("shop", {"app": "api"})
OTHER_NS_API = Endpoint.pod("blog", {"app": "api"})
INGRESS_CTRL = Endpoint.pod("gitlab-managed-apps", {"app": "nginx-ingress"})
NAMESPACES = [
    ns("shop", team="a"),
    ns("blog", team="b"),
    ns("gitlab-managed-apps", **{"app.gitlab.com/managed_by": "gitlab"}),
]

ONLY_API_TO_WEB_8080 = np(
    "web",
    "shop",
    {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": 8080}]}],
    },
)

CASES = [
    # (id, policies, src, dst, protocol, port, allowed)
    ("no policy: open", [], API, WEB, "TCP", 80, True),
    ("ingress allowed from selected pod", [ONLY_API_TO_WEB_8080], API, WEB, "TCP", 8080, True),
    ("wrong port", [ONLY_API_TO_WEB_8080], API, WEB, "TCP", 8081, False),
    ("protocol defaults to TCP", [ONLY_API_TO_WEB_8080], API, WEB, "UDP", 8080, False),
    ("podSelector alone is namespace-local", [ONLY_API_TO_WEB_8080], OTHER_NS_API, WEB, "TCP", 8080, False),
    ("unselected destination stays open", [ONLY_API_TO_WEB_8080], WEB, API, "TCP", 1, True),
    (
        "namespaceSelector alone: every pod in matching namespaces",
        [
            np(
                "w",
                "shop",
                {
                    "podSelector": {},
                    "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}]}],
                },
            )
        ],
        OTHER_NS_API,
        WEB,
        "UDP",
        53,
        True,
    ),
    (
        "namespaceSelector and podSelector in one peer: both must match",
        [
            np(
                "w",
                "shop",
                {
                    "podSelector": {},
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {"matchLabels": {"team": "b"}},
                                    "podSelector": {"matchLabels": {"app": "db"}},
                                }
                            ]
                        }
                    ],
                },
            )
        ],
        OTHER_NS_API,
        WEB,
        "TCP",
        80,
        False,
    ),
    (
        "metadata.name label added to namespaces",
        [
            np(
                "w",
                "shop",
                {
                    "podSelector": {},
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {"kubernetes.io/metadata.name": "blog"}
                                    }
                                }
                            ]
                        }
                    ],
                },
            )
        ],
        OTHER_NS_API,
        WEB,
        "TCP",
        80,
        True,
    ),
    (
        "empty ingress list isolates and allows nothing",
        [np("deny", "shop", {"podSelector": {}, "policyTypes": ["Ingress"]})],
        API,
        WEB,
        "TCP",
        80,
        False,
    ),
    (
        "[{}] allows everything",
        [np("all", "shop", {"podSelector": {}, "ingress": [{}]})],
        OTHER_NS_API,
        WEB,
        "SCTP",
        9,
        True,
    ),
    (
        "egress isolation of the source blocks",
        [np("eg", "shop", {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"]})],
        API,
        WEB,
        "TCP",
        80,
        False,
    ),
    (
        "egress rules without policyTypes imply Egress",
        [
            np(
                "eg",
                "shop",
                {
                    "podSelector": {"matchLabels": {"app": "api"}},
                    "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
                },
            )
        ],
        API,
        WEB,
        "TCP",
        80,
        False,
    ),
    (
        "egress and ingress both needed: egress allows, ingress isolated",
        [
            np("eg", "shop", {"podSelector": {"matchLabels": {"app": "api"}}, "egress": [{}]}),
            np("in", "shop", {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}),
        ],
        API,
        WEB,
        "TCP",
        80,
        False,
    ),
    (
        "endPort range",
        [np("r", "shop", {"podSelector": {}, "ingress": [{"ports": [{"port": 8000, "endPort": 8999}]}]})],
        API,
        WEB,
        "TCP",
        8999,
        True,
    ),
    (
        "endPort range upper bound",
        [np("r", "shop", {"podSelector": {}, "ingress": [{"ports": [{"port": 8000, "endPort": 8999}]}]})],
        API,
        WEB,
        "TCP",
        9000,
        False,
    ),
    (
        "ipBlock with except",
        [
            np(
                "e",
                "shop",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
                },
            )
        ],
        WEB,
        Endpoint.address("10.1.2.3"),
        "TCP",
        443,
        False,
    ),
    (
        "ipBlock allows the rest",
        [
            np(
                "e",
                "shop",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
                },
            )
        ],
        WEB,
        Endpoint.address("10.2.0.1"),
        "TCP",
        443,
        True,
    ),
    (
        "ipBlock does not match pods",
        [
            np(
                "e",
                "shop",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
                },
            )
        ],
        WEB,
        API,
        "TCP",
        443,
        False,
    ),
    (
        "GitLab's pod label app.gitlab.com/env selects nothing",
        [
            np(
                "gl",
                "shop",
                {
                    "podSelector": {"matchLabels": {"app.gitlab.com/env": "production"}},
                    "policyTypes": ["Ingress"],
                },
            )
        ],
        API,
        WEB,
        "TCP",
        80,
        True,
    ),
    (
        "matchExpressions NotIn matches pods without the key",
        [
            np(
                "x",
                "shop",
                {
                    "podSelector": {},
                    "ingress": [
                        {
                            "from": [
                                {
                                    "podSelector": {
                                        "matchExpressions": [
                                            {"key": "tier", "operator": "NotIn", "values": ["db"]}
                                        ]
                                    }
                                }
                            ]
                        }
                    ],
                },
            )
        ],
        API,
        WEB,
        "TCP",
        80,
        True,
    ),
    (
        "DoesNotExist in a combined peer matches pods without the key (NCA 2.1.0 selects none)",
        [
            np(
                "x",
                "shop",
                {
                    "podSelector": {},
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {"matchLabels": {"team": "b"}},
                                    "podSelector": {
                                        "matchExpressions": [{"key": "track", "operator": "DoesNotExist"}]
                                    },
                                }
                            ]
                        }
                    ],
                },
            )
        ],
        OTHER_NS_API,
        WEB,
        "TCP",
        80,
        True,
    ),
    (
        "Exists in a combined peer needs the key",
        [
            np(
                "x",
                "shop",
                {
                    "podSelector": {},
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {"matchLabels": {"team": "b"}},
                                    "podSelector": {
                                        "matchExpressions": [{"key": "app", "operator": "Exists"}]
                                    },
                                }
                            ]
                        }
                    ],
                },
            )
        ],
        OTHER_NS_API,
        WEB,
        "TCP",
        80,
        True,
    ),
    # ------------------------------------------------------------------------- Cilium
    (
        "cilium fromEndpoints is scoped to the policy namespace",
        [
            cnp(
                "c",
                "shop",
                {
                    "endpointSelector": {"matchLabels": {"app": "web"}},
                    "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "api"}}]}],
                },
            )
        ],
        OTHER_NS_API,
        WEB,
        "TCP",
        80,
        False,
    ),
    (
        "cilium fromEndpoints same namespace, any port and protocol",
        [
            cnp(
                "c",
                "shop",
                {
                    "endpointSelector": {"matchLabels": {"app": "web"}},
                    "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "api"}}]}],
                },
            )
        ],
        API,
        WEB,
        "UDP",
        5353,
        True,
    ),
    (
        "cilium k8s:io.kubernetes.pod.namespace crosses namespaces",
        [
            cnp(
                "c",
                "shop",
                {
                    "endpointSelector": {},
                    "ingress": [
                        {
                            "fromEndpoints": [
                                {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "blog", "k8s:app": "api"}}
                            ]
                        }
                    ],
                },
            )
        ],
        OTHER_NS_API,
        WEB,
        "TCP",
        80,
        True,
    ),
    (
        "cilium namespace labels cross namespaces (GitLab's chart default)",
        [
            cnp(
                "c",
                "shop",
                {
                    "endpointSelector": {},
                    "ingress": [
                        {
                            "fromEndpoints": [
                                {
                                    "matchLabels": {
                                        "io.cilium.k8s.namespace.labels.app.gitlab.com/managed_by": "gitlab"
                                    }
                                }
                            ]
                        }
                    ],
                },
            )
        ],
        INGRESS_CTRL,
        WEB,
        "TCP",
        80,
        True,
    ),
    (
        "GitLab's cilium default: pod label app.gitlab.com/managed_by matches nothing",
        [
            cnp(
                "c",
                "shop",
                {
                    "endpointSelector": {},
                    "ingress": [
                        {"fromEndpoints": [{"matchLabels": {"app.gitlab.com/managed_by": "gitlab"}}]}
                    ],
                },
            )
        ],
        INGRESS_CTRL,
        WEB,
        "TCP",
        80,
        False,
    ),
    (
        "cilium toPorts without protocol means ANY",
        [cnp("c", "shop", {"endpointSelector": {}, "ingress": [{"toPorts": [{"ports": [{"port": "53"}]}]}]})],
        OTHER_NS_API,
        WEB,
        "UDP",
        53,
        True,
    ),
    (
        "cilium ingress [{}] isolates and allows nothing",
        [cnp("c", "shop", {"endpointSelector": {}, "ingress": [{}]})],
        API,
        WEB,
        "TCP",
        80,
        False,
    ),
    (
        "cilium deny wins over allow",
        [
            np("all", "shop", {"podSelector": {}, "ingress": [{}]}),
            cnp(
                "d",
                "shop",
                {
                    "endpointSelector": {},
                    "ingressDeny": [
                        {
                            "fromEndpoints": [{"matchLabels": {"app": "api"}}],
                            "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}],
                        }
                    ],
                },
            ),
        ],
        API,
        WEB,
        "TCP",
        80,
        False,
    ),
    (
        "cilium deny leaves other ports",
        [
            np("all", "shop", {"podSelector": {}, "ingress": [{}]}),
            cnp(
                "d",
                "shop",
                {
                    "endpointSelector": {},
                    "ingressDeny": [
                        {
                            "fromEndpoints": [{"matchLabels": {"app": "api"}}],
                            "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}],
                        }
                    ],
                },
            ),
        ],
        API,
        WEB,
        "TCP",
        81,
        True,
    ),
    (
        "cilium deny-only policy isolates its direction",
        [cnp("d", "shop", {"endpointSelector": {}, "ingressDeny": [{"fromEntities": ["world"]}]})],
        API,
        WEB,
        "TCP",
        81,
        False,
    ),
    (
        "cilium enableDefaultDeny false: deny applies, no isolation",
        [
            cnp(
                "d",
                "shop",
                {
                    "endpointSelector": {},
                    "enableDefaultDeny": {"ingress": False},
                    "ingressDeny": [{"fromEntities": ["world"]}],
                },
            )
        ],
        API,
        WEB,
        "TCP",
        81,
        True,
    ),
    (
        "cilium entity world matches external addresses",
        [cnp("c", "shop", {"endpointSelector": {}, "egress": [{"toEntities": ["world"]}]})],
        WEB,
        Endpoint.address("203.0.113.5"),
        "TCP",
        443,
        True,
    ),
    (
        "cilium entity world does not match pods",
        [cnp("c", "shop", {"endpointSelector": {}, "egress": [{"toEntities": ["world"]}]})],
        WEB,
        API,
        "TCP",
        443,
        False,
    ),
    (
        "cilium entity cluster matches pods in other namespaces",
        [cnp("c", "shop", {"endpointSelector": {}, "egress": [{"toEntities": ["cluster"]}]})],
        WEB,
        OTHER_NS_API,
        "TCP",
        443,
        True,
    ),
    (
        "cilium entity kube-apiserver",
        [cnp("c", "shop", {"endpointSelector": {}, "egress": [{"toEntities": ["kube-apiserver"]}]})],
        WEB,
        Endpoint.entity_named("kube-apiserver"),
        "TCP",
        443,
        True,
    ),
    (
        "cilium entity host is not kube-apiserver",
        [cnp("c", "shop", {"endpointSelector": {}, "egress": [{"toEntities": ["kube-apiserver"]}]})],
        WEB,
        Endpoint.entity_named("host"),
        "TCP",
        443,
        False,
    ),
    (
        "cilium toCIDRSet with except",
        [
            cnp(
                "c",
                "shop",
                {
                    "endpointSelector": {},
                    "egress": [{"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}]}],
                },
            )
        ],
        WEB,
        Endpoint.address("10.9.1.1"),
        "TCP",
        443,
        False,
    ),
    (
        "cilium toFQDNs never silently allows",
        [cnp("c", "shop", {"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchName": "example.com"}]}]})],
        WEB,
        Endpoint.address("93.184.216.34"),
        "TCP",
        443,
        False,
    ),
]


@pytest.mark.parametrize(
    ("policies", "src", "dst", "protocol", "port", "allowed"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_verdict(
    policies: list[dict[str, Any]], src: Endpoint, dst: Endpoint, protocol: str, port: int, allowed: bool
) -> None:
    model = Model.build(policies, NAMESPACES)
    assert model.verdict(src, dst, protocol, port).allowed is allowed


def test_named_port_resolves_against_destination_pod() -> None:
    workload = {
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "ports": [
                                {"name": "http", "containerPort": 8080},
                                {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                            ]
                        }
                    ]
                },
            }
        },
    }
    policy = np(
        "w",
        "shop",
        {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}, {"port": "dns", "protocol": "UDP"}]}]},
    )
    model = Model.from_objects([policy, workload])
    assert model.verdict(API, WEB, "TCP", 8080).allowed
    assert model.verdict(API, WEB, "UDP", 53).allowed
    assert not model.verdict(API, WEB, "TCP", 53).allowed
    # a pod without that named port: nothing
    assert not model.verdict(WEB, API, "TCP", 8080).allowed
    # ports given on the endpoint win over the known workload's
    custom = Endpoint.pod("shop", {"app": "web"}, named_ports=(("http", "TCP", 9090),))
    assert model.verdict(API, custom, "TCP", 9090).allowed


def test_verdict_names_policies_and_caveats() -> None:
    policies = [
        cnp(
            "c",
            "shop",
            {
                "endpointSelector": {"matchLabels": {"app": "api"}},
                "egress": [
                    {
                        "toEndpoints": [{}],
                        "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{}]}}],
                    }
                ],
            },
        )
    ]
    model = Model.build(policies, NAMESPACES)
    verdict = model.verdict(API, WEB, "TCP", 80)
    assert verdict.allowed and verdict.policies == ("cnp:shop/c",)
    assert any("L7" in caveat for caveat in verdict.caveats)
    denied = model.verdict(API, WEB, "TCP", 81)
    assert not denied.allowed and "egress" in denied.reason and "cnp:shop/c" in denied.reason
    assert model.connectivity(API, WEB).allowed == ConnectionSet.of("TCP", IntervalSet([(80, 80)]))


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (
            np("x", "shop", {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}}),
            "unknown operator",
        ),
        (np("x", "shop", {"podSelector": {}, "ingress": [{"ports": [{"port": 70000}]}]}), "outside"),
        (
            np("x", "shop", {"podSelector": {}, "ingress": [{"ports": [{"port": 80, "protocol": "ICMP"}]}]}),
            "protocol",
        ),
        (
            np(
                "x",
                "shop",
                {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.300/8"}}]}]},
            ),
            "CIDR",
        ),
        (cnp("x", "shop", {"endpointSelector": {}, "egress": [{"toEntities": ["moon"]}]}), "unknown entity"),
    ],
)
def test_bad_policies_raise_input_errors_with_a_path(policy: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message) as info:
        Model.build([policy])
    assert info.value.path
