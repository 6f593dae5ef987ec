"""customResources: a rendered template that is plainly a string (a single-quoted scalar, a
plain word) is taken without reading it back as YAML (work of render, issue 18). The shortcut
must give what the YAML read gives, for every text it takes."""

import random

import pytest

from autodeploy_netpol.desired.custom_resources import _read_directly
from autodeploy_netpol.sources.yamlio import iter_documents

WORDS = [
    "production",
    "production-auto-deploy",
    "production-auto-deploy-allow-metrics",
    "auto-deploy-app-2.100.2",
    "2.100.2",
    "1.0",
    "1e3",
    "0x1f",
    "0o17",
    "017",
    "1_000",
    "y",
    "n",
    "yes",
    "no",
    "on",
    "off",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "NaN",
    ".inf",
    "-.inf",
    "-1",
    "+1",
    ".5",
    "a.b",
    "a/b",
    "a_b",
    "_a",
    "-a",
    ".a",
    "/a",
    "a:b",
    "a: b",
    "a #b",
    "a#b",
    '"a"',
    "a b",
    "",
    "é",
    "ab\u00e9",
    "١٢",
    "<<",
    "'a'",
    "'production'",
    "'auto-deploy-app-2.100.2'",
    "''",
    "'a''b'",
    "'a'b'",
    "' a b '",
    "'#x: y'",
    "'{{'",
    "'yes'",
    "'1e3'",
    "'null'",
    "'\\n'",
    "'é'",
    "'a\tb'",
    "'a",
    "a'",
    "'",
    "'''",
]


def _read(text):
    documents = list(iter_documents(f"k: {text}\n", "<tpl>", go_scalars=True))
    return documents[0].data["k"]


def _generated():
    rnd = random.Random(18)
    alphabet = "abcyzAEFNTY0123456789-_./:e+ #'\"~<\\{}[],&*!|>%@`\t"
    for _ in range(4000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 8)))
        yield f"'{text}'" if rnd.random() < 0.4 else text


@pytest.mark.parametrize("text", [*WORDS, *_generated()])
def test_what_is_read_directly_is_what_yaml_reads(text):
    direct = _read_directly(text)
    if direct is not None:
        assert _read(text) == direct
        assert type(_read(text)) is str


def test_the_shortcut_is_taken_for_names_and_not_for_what_yaml_resolves_or_escapes():
    assert _read_directly("production-auto-deploy-allow-metrics") == "production-auto-deploy-allow-metrics"
    assert _read_directly("'auto-deploy-app-2.100.2'") == "auto-deploy-app-2.100.2"
    assert _read_directly("'yes'") == "yes"
    assert _read_directly("''") == ""
    for text in ("2.100", "1e3", "yes", "on", "null", "-a", "a: b", "'a''b'", "'a", "", "'é'", '"a"'):
        assert _read_directly(text) is None, text
