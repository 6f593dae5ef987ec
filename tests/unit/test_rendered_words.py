"""customResources: a rendered template that is a plain word is taken as it is, without reading
it back as YAML (start-up and work of render, issue 18). The shortcut must give what the YAML
read gives, for every text it takes."""

import random

import pytest

from autodeploy_netpol.desired.custom_resources import _plain_word
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
    "'a'",
    '"a"',
    "a b",
    "",
    "é",
    "ab\u00e9",
    "١٢",
    "<<",
]


def _read(text):
    documents = list(iter_documents(f"k: {text}\n", "<tpl>", go_scalars=True))
    return documents[0].data["k"]


def _generated():
    rnd = random.Random(18)
    alphabet = "abcyzAEFNTY0123456789-_./:e+ #'\"~<"
    for _ in range(4000):
        yield "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 8)))


@pytest.mark.parametrize("text", [*WORDS, *_generated()])
def test_a_plain_word_reads_as_itself(text):
    if _plain_word(text):
        assert _read(text) == text
        assert type(_read(text)) is str


def test_the_shortcut_is_taken_for_names_and_not_for_numbers_or_words_yaml_resolves():
    assert _plain_word("production-auto-deploy-allow-metrics")
    assert _plain_word("auto-deploy-app-2.100.2")
    for text in ("2.100", "1e3", "yes", "on", "null", "-a", "a: b", "'a'", ""):
        assert not _plain_word(text), text
