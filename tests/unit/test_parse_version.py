"""shapes.parse_version reads plain versions without its pattern (start-up, issue 18): the same
numbers as the pattern, for every text."""

import random
import re

import pytest

from autodeploy_netpol.desired.shapes import parse_version

PATTERN = r"\s*v?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?(?:[-+][0-9A-Za-z.+-]*)?\s*"
NAMED = ["2.100.2", "2.39", "v2.39.0", " 2.1.0 ", "1234567.1", "2.1.1.1", "2..1", ".1.2", "2.1.", "2.1-rc1", "2.1+b"]


def _reference(text):
    match = re.fullmatch(PATTERN, text)
    return None if not match else (int(match[1]), int(match[2]), int(match[3] or 0))


def _generated():
    rnd = random.Random(18)
    for _ in range(3000):
        yield "".join(rnd.choice("0123456789.v-+ a٣") for _ in range(rnd.randint(0, 12)))


@pytest.mark.parametrize("text", [*NAMED, *_generated()])
def test_parse_version_reads_as_the_pattern(text):
    assert parse_version(text) == _reference(text)
