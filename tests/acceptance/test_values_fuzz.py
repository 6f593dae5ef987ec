"""Malformed values files never crash the CLI: exit 0 or 2, never a traceback, 2 always says why.

Hypothesis generates YAML-ish token soup, raw bytes, and valid values files broken on purpose
(keys dropped, duplicated, retyped; tabs inserted; indentation broken; huge numbers; deep
nesting). Each runs through the real CLI (`validate` and `render --release r`) in-process; a few
of the nastiest shapes also run through the installed console script in a subprocess.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from values_corpus import GOOD, corpus_files

from autodeploy_netpol.cli import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
SEEDS = [p.read_bytes() for p in [*corpus_files(GOOD), EXAMPLE]]
SEED_DATA = [
    d
    for d in (yaml.load(s.decode("utf-8-sig"), Loader=yaml.CSafeLoader) for s in SEEDS)
    if isinstance(d, dict) and d
]

FUZZ = settings(
    max_examples=int(os.environ.get("NETPOL_FUZZ_EXAMPLES", "60")),  # raise it to hunt for crashes
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TOKENS = [
    "networkPolicy", "ciliumNetworkPolicy", "enabled", "spec", "policies", "podSelector", "matchLabels",
    "matchExpressions", "ingress", "egress", "from", "to", "ports", "port", "endPort", "ipBlock", "cidr",
    "except", "toPorts", "toCIDRSet", "endpointSelector", "alerts", "policyTypes", "Ingress", "operator",
    ":", ": ", " ", "  ", "\n", "\n  ", "\n    ", "- ", "-", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ",
    "!!str ", "!!python/name:os.system ", "'", '"', "#", "\t", "---\n", "...\n", "? ", "|", ">", "%YAML 1.1\n",
    "true", "\"false\"", "null", "~", "10.0.0.1/8", "::/0", "80", "0", "70000", "1e400", "-.inf", ".nan",
    "99999999999999999999999", "http", "k8s:app", "app.kubernetes.io/name", "\u00e9", "\ufeff", "\x00", "\x85",
]  # fmt: skip


@st.composite
def token_soup(draw) -> bytes:
    return "".join(draw(st.lists(st.sampled_from(TOKENS), max_size=60))).encode("utf-8")


def _paths(data, prefix=()):
    """Every (container, key) inside a document, to pick a place to mutate."""
    places = []
    if isinstance(data, dict):
        for key in list(data):
            places.append((data, key))
            places.extend(_paths(data[key]))
    elif isinstance(data, list):
        for index in range(len(data)):
            places.append((data, index))
            places.extend(_paths(data[index]))
    return places


NASTY_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.just([]),
    st.just({}),
    st.just({"": None}),
    st.recursive(st.just(1), lambda inner: st.lists(inner, max_size=2), max_leaves=8),
    st.integers(min_value=50, max_value=130).map(lambda depth: _nest(depth)),
)


def _nest(depth: int):
    value: object = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


@st.composite
def mutated_data(draw) -> bytes:
    data = copy.deepcopy(draw(st.sampled_from(SEED_DATA)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        places = _paths(data)
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["drop", "retype", "rename", "wrap"]))
        if action == "drop":
            del container[key]
        elif action == "retype":
            container[key] = copy.deepcopy(draw(NASTY_VALUES))  # st.just objects are shared
        elif action == "rename" and isinstance(container, dict):
            container[draw(st.text(min_size=1, max_size=12))] = container.pop(key)
        elif action == "wrap":
            container[key] = [container[key]]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


@st.composite
def mutated_text(draw) -> bytes:
    text = draw(st.sampled_from(SEEDS)).decode("utf-8-sig")
    lines = text.split("\n")
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        line = lines[index]
        action = draw(st.sampled_from(["tab", "indent", "dedent", "duplicate", "truncate", "insert", "drop"]))
        if action == "tab":
            at = draw(st.integers(min_value=0, max_value=len(line)))
            lines[index] = line[:at] + "\t" + line[at:]
        elif action == "indent":
            lines[index] = " " * draw(st.integers(min_value=1, max_value=3)) + line
        elif action == "dedent":
            lines[index] = line[draw(st.integers(min_value=1, max_value=3)) :]
        elif action == "duplicate":  # duplicate keys, duplicate list entries
            lines.insert(index, line)
        elif action == "truncate":
            lines[index] = line[: draw(st.integers(min_value=0, max_value=len(line)))]
        elif action == "insert":
            at = draw(st.integers(min_value=0, max_value=len(line)))
            lines[index] = line[:at] + draw(st.sampled_from(TOKENS)) + line[at:]
        elif len(lines) > 1:
            del lines[index]
    return "\n".join(lines).encode("utf-8")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Write ``content`` to a file and run a command on it through the real CLI, in-process."""
    directory = tmp_path_factory.mktemp("fuzz")
    runner = CliRunner()
    counter = iter(range(10**9))

    def invoke(content: bytes) -> None:
        path = directory / f"values-{next(counter)}.yaml"
        path.write_bytes(content)
        for args in (["validate", str(path)], ["render", str(path), "--release", "r"]):
            result = runner.invoke(main, args, catch_exceptions=True)
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise AssertionError(
                    f"{args[0]} raised {result.exception!r} on {content!r}"
                ) from result.exception
            assert result.exit_code in (0, 2), (args[0], result.exit_code, result.output, content)
            assert "Traceback" not in result.output
            if result.exit_code == 2:
                assert result.output.strip(), (args[0], content)

    return invoke


@FUZZ
@given(content=token_soup())
def test_yaml_ish_text(run, content):
    run(content)


@FUZZ
@given(content=st.binary(max_size=300))
def test_random_bytes(run, content):
    run(content)


@FUZZ
@given(content=mutated_data())
def test_valid_files_with_broken_data(run, content):
    run(content)


@FUZZ
@given(content=mutated_text())
def test_valid_files_with_broken_text(run, content):
    run(content)


NASTY_FILES = {
    "deep-nesting": ("networkPolicy: " + "[" * 3000 + "]" * 3000 + "\n").encode(),
    "alias-bomb": (
        "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n"
        + "".join(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9))
    ).encode(),
    "random-bytes": bytes(range(256)) * 4,
    "huge-numbers": b"networkPolicy:\n  spec:\n    ingress:\n      - ports:\n          - port: 1e999999\n"
    b"            endPort: 123456789012345678901234567890\n",
}


@pytest.mark.parametrize("name", sorted(NASTY_FILES))
def test_the_console_script_never_shows_a_traceback(tmp_path, name):
    """The installed entry point, in its own process: what CI runs."""
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(NASTY_FILES[name])
    script = Path(sys.executable).with_name("autodeploy-netpol")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "autodeploy_netpol"]
    env = {k: v for k, v in os.environ.items() if k not in ("HELM_UPGRADE_VALUES_FILE", "HELM_RELEASE_NAME")}
    for args in (["validate", str(path)], ["render", str(path), "--release", "r"]):
        done = subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr + done.stdout
        assert done.stderr.strip() or done.stdout.strip()
