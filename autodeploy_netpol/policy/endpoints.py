"""Who talks: pods (namespace + labels), external addresses, and Cilium's reserved entities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..kube.defaults import CILIUM_RESERVED_PREFIX
from .intervals import IPV4_MAX, cidr_range, format_ip_range, ip_to_int

POD, EXTERNAL, ENTITY = "pod", "external", "entity"

#: Cilium entities that name one reserved identity (an endpoint of kind ENTITY).
RESERVED_ENTITIES = ("host", "remote-node", "kube-apiserver", "health", "init", "ingress", "unmanaged")
#: Entities that name a group: world = everything outside the cluster, cluster = everything in it.
GROUP_ENTITIES = ("world", "world-ipv4", "world-ipv6", "cluster", "all")
ENTITIES = RESERVED_ENTITIES + GROUP_ENTITIES

NamedPort = tuple[str, str, int]  # (name, protocol, number)


@dataclass(frozen=True)
class Endpoint:
    """One side of a connection, as the engine sees it.

    Build with :meth:`pod`, :meth:`address` or :meth:`entity`. A pod need not exist: a flow's
    recorded namespace and labels are enough. ``named_ports`` resolve named ports in policies
    (``http`` → TCP 8080); when a pod endpoint has none, the model borrows them from a known
    workload with the same namespace and labels.
    """

    kind: str
    namespace: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    named_ports: tuple[NamedPort, ...] = ()
    #: external address range on the integer line of :mod:`.intervals` (a single IP: lo == hi)
    ip_lo: int = -1
    ip_hi: int = -1
    entity: str = ""
    _labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)
    _hash: int = field(default=0, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        self._labels.update(self.labels)
        # hashed once: endpoints are cache keys on the per-flow path
        object.__setattr__(
            self,
            "_hash",
            hash(
                (
                    self.kind,
                    self.namespace,
                    self.labels,
                    self.named_ports,
                    self.ip_lo,
                    self.ip_hi,
                    self.entity,
                )
            ),
        )

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def pod(
        cls, namespace: str, labels: Mapping[str, str] | None = None, named_ports: tuple[NamedPort, ...] = ()
    ) -> Endpoint:
        """A pod in ``namespace`` carrying ``labels``."""
        items = tuple(sorted((str(k), str(v)) for k, v in (labels or {}).items()))
        return cls(POD, namespace=namespace, labels=items, named_ports=tuple(sorted(named_ports)))

    @classmethod
    def address(cls, ip: str) -> Endpoint:
        """An address outside the cluster (``203.0.113.7``) or a range in CIDR form (``10.0.0.0/8``)."""
        if "/" in ip:
            lo, hi = cidr_range(ip)
        else:
            lo = hi = ip_to_int(ip)
        return cls(EXTERNAL, ip_lo=lo, ip_hi=hi, entity="world")

    @classmethod
    def address_range(cls, lo: int, hi: int) -> Endpoint:
        """A range of external addresses on the integer line (see :mod:`.intervals`)."""
        return cls(EXTERNAL, ip_lo=lo, ip_hi=hi, entity="world")

    @classmethod
    def entity_named(cls, name: str, ip: str | None = None) -> Endpoint:
        """A Cilium reserved identity (``host``, ``kube-apiserver``, ``remote-node`` …).

        ``world`` with an address is the same as :meth:`address`; ``world`` without one stands
        for "somewhere outside the cluster".
        """
        name = name.lower().removeprefix(CILIUM_RESERVED_PREFIX)
        if name == "world" and ip:
            return cls.address(ip)
        lo = hi = ip_to_int(ip) if ip else -1
        return cls(ENTITY, entity=name, ip_lo=lo, ip_hi=hi)

    @property
    def label_map(self) -> Mapping[str, str]:
        return self._labels

    @property
    def is_ipv4(self) -> bool:
        return 0 <= self.ip_hi <= IPV4_MAX

    def __str__(self) -> str:
        if self.kind == POD:
            labels = ",".join(f"{k}={v}" for k, v in self.labels)
            return f"{self.namespace}/[{labels}]"
        if self.kind == EXTERNAL:
            return format_ip_range(self.ip_lo, self.ip_hi)
        return f"entity:{self.entity}"
