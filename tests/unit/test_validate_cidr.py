"""The CIDR checks read canonical IPv4 CIDRs without ipaddress (start-up, issue 18): whatever
the text, the checks must see what ipaddress reads."""

import ipaddress
import itertools
import random

import pytest

from autodeploy_netpol.desired import validate

EDGE = [
    "10.20.0.0/16",
    "10.20.99.0/24",
    "0.0.0.0/0",
    "255.255.255.255/32",
    "192.168.10.0/24",
    "10.0.0.1/8",
    "10.0.0.0/33",
    "10.0.0.0/08",
    "10.0.0.0",
    "10.0.0.0/",
    "010.0.0.0/8",
    "10.0.0/8",
    "10.0.0.0.0/8",
    "256.0.0.0/8",
    "10.0.0.0/+8",
    "10.0.0.0/ 8",
    " 10.0.0.0/8",
    "10.0.0.0/8 ",
    "١٠.0.0.0/8",
    "10.0.0.0/٨",
    "10.0.0.0/255.0.0.0",
    "10.0.0.0/0.255.255.255",
    "::/0",
    "fe80::/10",
    "::ffff:10.0.0.0/104",
    "",
    "/",
    "a.b.c.d/8",
    "1.2.3.4/32",
    "1.2.3.4/31",
    "0.0.0.0/32",
]


def _reference(text):
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return network


def _samples():
    rnd = random.Random(18)
    octets = ["0", "00", "01", "9", "10", "255", "256", "1000", "-1", "+1", " 1", "a", ""]
    prefixes = ["", "/", "/0", "/8", "/08", "/24", "/32", "/33", "/-1", "/x"]
    for _ in range(3000):
        parts = [rnd.choice(octets) if rnd.random() < 0.3 else str(rnd.randint(0, 255)) for _ in range(4)]
        yield ".".join(parts) + (rnd.choice(prefixes) if rnd.random() < 0.3 else f"/{rnd.randint(0, 32)}")


@pytest.mark.parametrize("text", [*EDGE, *_samples()])
def test_network_reads_as_ipaddress_does(text):
    network, canonical = validate._network(text)
    expected = _reference(text)
    assert (network is None) == (expected is None)
    if expected is not None:
        assert canonical == str(expected)
        assert (network.version, network.prefixlen, str(network)) == (
            expected.version,
            expected.prefixlen,
            str(expected),
        )


def test_the_fast_path_is_taken_for_canonical_ipv4_only():
    assert isinstance(validate._network("10.20.0.0/16")[0], validate._IPv4Network)
    assert not isinstance(validate._network("10.20.0.1/16")[0], validate._IPv4Network)
    assert not isinstance(validate._network("fe80::/10")[0], validate._IPv4Network)


def test_inside_agrees_with_ipaddress():
    valid = [text for text in [*EDGE, *itertools.islice(_samples(), 300)] if _reference(text) is not None]
    for inner, outer in itertools.product(valid, valid):
        small, large = _reference(inner), _reference(outer)
        assert validate._inside(inner, outer) == (
            small.version == large.version and small.subnet_of(large)
        ), (inner, outer)
