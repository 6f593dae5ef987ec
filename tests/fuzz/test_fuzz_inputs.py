"""Every file-reading command and option, fed generated malformed input (issue 13, "Proof").

Families: values files, manifests (snapshots, rendered streams, PATHs: as a file, in a
directory, on standard input; small YAML and big JSON that takes the fast path), flow files
(Hubble JSON and CSV, plain and gzip, damaged), drift reports for ``comment``, Markdown sections,
kubeconfigs, the cluster's answers (a real HTTP server serving generated malformed lists and
statuses to the official client), and paths that are not regular files. Each case runs through the real CLI in the
measuring worker (fuzz_support.py) and must keep the promises :func:`fuzz_support.check` asserts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzz_support import FUZZ, ROOT, Worker, case_dir, check, run_case
from hypothesis import given
from hypothesis import strategies as st
from mutations import (
    CSV_LINES,
    HUBBLE_LINES,
    MANIFEST_SEEDS,
    VALUES_SEEDS,
    broken_structure,
    context_objects,
    damaged_bytes,
    dump_json,
    dump_yaml,
    flow_file,
    policy_object,
    values_from_grammar,
)

pytestmark = pytest.mark.fuzz

GOOD_VALUES = ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
GOOD_LIVE = ROOT / "tests" / "data" / "audit" / "live.yaml"
GOOD_DESIRED = ROOT / "tests" / "data" / "audit" / "desired.yaml"
GOOD_FLOWS = ROOT / "tests" / "data" / "audit" / "hubble-flows.jsonl"
DEPLOY = ("-r", "production", "-n", "shop")
#: A recording suggest --from-flows learns from (pods of release web in namespace shop).
LEARN_FLOWS = Path(__file__).with_name("learn-flows.csv")
#: Reading the cluster in the kubeconfig family: nothing listens there, and no time for retries.
NOWHERE = "http://127.0.0.1:9"
FAST_CLUSTER = ("--request-timeout", "300ms", "--read-deadline", "300ms")


# --- values files -------------------------------------------------------------------------------

VALUES_COMMANDS = {
    "validate": (lambda v, out: ["validate", v], {0, 2}),
    "validate-json": (lambda v, out: ["validate", v, "--format", "json"], {0, 2}),
    "render": (lambda v, out: ["render", v, "-r", "production", "--values-out", out.with_suffix(".yaml")], {0, 2}),
    "drift": (lambda v, out: ["drift", v, *DEPLOY, "--live", GOOD_LIVE, "--format", "json", "-o", out], {0, 1, 2}),
    "audit": (lambda v, out: ["audit", v, "--flows", GOOD_FLOWS, "--live", GOOD_LIVE, *DEPLOY], {0, 1, 2}),
}


@st.composite
def values_text(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        data = draw(values_from_grammar())  # plausible blocks, odd here and there: deep in the tool
    else:
        data = draw(broken_structure(draw(st.sampled_from(VALUES_SEEDS))))
    text = dump_yaml([data]).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 2)) == 0:
        text = draw(damaged_bytes(text))
    return text


@FUZZ
@given(text=values_text(), command=st.sampled_from(sorted(VALUES_COMMANDS)))
def test_values_files(worker: Worker, scratch: Path, text: bytes, command: str) -> None:
    where = case_dir(scratch)
    values = where / "values.yaml"
    values.write_bytes(text)
    make, allowed = VALUES_COMMANDS[command]
    outcome = run_case(worker, make(values, where / "out.json"), cwd=where)
    check("values file", outcome, allowed=allowed, names=[str(values)])
    assert values.read_bytes() == text  # never rewritten


# --- manifests ----------------------------------------------------------------------------------

MANIFEST_COMMANDS: dict[str, tuple[Any, set[int]]] = {
    "drift --live": (lambda m: ["drift", GOOD_VALUES, *DEPLOY, "--live", m, "--format", "json"], {0, 1, 2}),
    "drift --desired": (lambda m: ["drift", "--desired", m, "--live", GOOD_LIVE, "-n", "shop", "-r", "production"], {0, 1, 2}),
    "drift --desired -A": (lambda m: ["drift", "--desired", m, "--live", m, "-A", "--format", "markdown"], {0, 1, 2}),
    "audit --live": (lambda m: ["audit", "--flows", GOOD_FLOWS, "--desired", GOOD_DESIRED, "--live", m, *DEPLOY], {0, 1, 2}),
    "audit --desired": (lambda m: ["audit", "--flows", GOOD_FLOWS, "--desired", m, "--live", GOOD_LIVE, *DEPLOY, "--format", "markdown"], {0, 1, 2}),
    "connectivity": (lambda m: ["connectivity", m, "--format", "json"], {0, 2}),
    "connectivity markdown": (lambda m: ["connectivity", m, "--format", "markdown"], {0, 2}),
    "diff": (lambda m: ["diff", "--before", GOOD_LIVE, "--after", m], {0, 1, 2}),
    "explain": (lambda m: ["explain", m], {0, 2}),
    "lint": (lambda m: ["lint", m, "--format", "json"], {0, 1, 2}),
    "suggest --live": (lambda m: ["suggest", "--from-flows", LEARN_FLOWS, "-r", "web", "-n", "shop", "--live", m], {0, 2, 5}),
}  # fmt: skip


@st.composite
def manifest_text(draw: st.DrawFn) -> tuple[bytes, str]:
    if draw(st.booleans()):
        broken = [*draw(st.lists(policy_object(), min_size=1, max_size=4)), *draw(context_objects())]
    else:
        documents = draw(st.sampled_from(MANIFEST_SEEDS))
        broken = [draw(broken_structure(document)) for document in documents]
    form = draw(st.sampled_from(["yaml", "json", "big-json", "list-json"]))
    if form == "yaml":
        text = dump_yaml(broken)
    elif form == "list-json":
        text = dump_json({"apiVersion": "v1", "kind": "List", "items": broken})
    else:  # past the json module's fast path (256 KiB) when big
        text = dump_json(
            {"apiVersion": "v1", "kind": "List", "items": broken}, pad_to=300_000 if form == "big-json" else 0
        )
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 3)) == 0:
        raw = draw(damaged_bytes(raw))
    return raw, "yaml" if form == "yaml" else "json"


@FUZZ
@given(
    generated=manifest_text(),
    command=st.sampled_from(sorted(MANIFEST_COMMANDS)),
    how=st.sampled_from(["file", "directory", "stdin"]),
)
def test_manifests(worker: Worker, scratch: Path, generated: tuple[bytes, str], command: str, how: str) -> None:
    text, suffix = generated
    where = case_dir(scratch)
    make, allowed = MANIFEST_COMMANDS[command]
    stdin = None
    if how == "stdin" and command not in ("drift --desired -A",):
        target, stdin, names = "-", text, ["<stdin>"]
    elif how == "directory":
        folder = where / "snapshot"
        (folder / "nested").mkdir(parents=True)
        (folder / "nested" / f"objects.{suffix}").write_bytes(text)
        (folder / "readme.txt").write_text("not read")
        target, names = str(folder), [str(folder)]
    else:
        path = where / f"objects.{suffix}"
        path.write_bytes(text)
        target, names = str(path), [str(path)]
    outcome = run_case(worker, make(target), cwd=where, stdin=stdin)
    check("manifest", outcome, allowed=allowed, names=names)


# --- flow files ---------------------------------------------------------------------------------


@FUZZ
@given(recording=flow_file(), command=st.sampled_from(["audit", "audit-json", "suggest", "audit-stdin"]))
def test_flow_files(worker: Worker, scratch: Path, recording: tuple[bytes, str], command: str) -> None:
    body, kind = recording
    where = case_dir(scratch)
    flows = where / ("flows.gz" if kind.startswith("gzip") else "flows.txt")
    flows.write_bytes(body)
    name, stdin = str(flows), None
    if command == "audit-stdin":
        name, stdin = "-", body
    argv = {
        "audit": ["audit", "--flows", name, "--desired", GOOD_DESIRED, "--live", GOOD_LIVE, *DEPLOY],
        "audit-stdin": ["audit", "--flows", name, "--desired", GOOD_DESIRED, "--live", GOOD_LIVE, *DEPLOY],
        "audit-json": ["audit", "--flows", name, "--flows", GOOD_FLOWS, "--no-live", "--desired", GOOD_DESIRED,
                       *DEPLOY, "--format", "json", "-o", where / "audit.md"],
        "suggest": ["suggest", "--from-flows", name, "-r", "web", "-n", "shop", "--format", "json"],
    }[command]  # fmt: skip
    outcome = run_case(worker, argv, cwd=where, stdin=stdin)
    # Malformed lines are never fatal: exit 2 only when no line of a file is a flow, naming it.
    check("flow file", outcome, allowed={0, 1, 2, 5}, names=[name, "<stdin>"])
    if outcome.exit == 2 and command != "suggest":
        assert "no line of it is a flow" in outcome.output or "line" in outcome.output


# --- drift reports and Markdown sections ----------------------------------------------------------


@pytest.fixture(scope="module")
def good_report(tmp_path_factory: pytest.TempPathFactory, worker: Worker) -> dict[str, Any]:
    where = tmp_path_factory.mktemp("report")
    out = where / "drift.json"
    outcome = run_case(
        worker,
        ["drift", GOOD_VALUES, "-r", "production", "-n", "shop-42-production", "--live",
         ROOT / "examples" / "shop" / "live-snapshot.yaml", "-q", "-o", out],
        cwd=where,
    )  # fmt: skip
    assert outcome.exit in (0, 1), outcome.output
    return dict(json.loads(out.read_text()))


@FUZZ
@given(data=st.data(), section=st.one_of(st.none(), st.binary(max_size=400)))
def test_reports_and_sections(
    worker: Worker, scratch: Path, good_report: dict[str, Any], data: st.DataObject, section: bytes | None
) -> None:
    where = case_dir(scratch)
    report = where / "drift.json"
    text = dump_json(data.draw(broken_structure(good_report)), pad_to=data.draw(st.sampled_from([0, 0, 300_000])))
    raw = text.encode("utf-8", "surrogatepass")
    if data.draw(st.booleans()):
        raw = data.draw(damaged_bytes(raw))
    report.write_bytes(raw)
    argv: list[Any] = ["comment", "--report", report, "--environment", "production", "--comment-optional",
                       "--markdown-out", where / "comment.md"]  # fmt: skip
    names = [str(report)]
    if section is not None:
        (where / "audit.md").write_bytes(section)
        argv += ["--section", where / "audit.md"]
        names.append(str(where / "audit.md"))
    outcome = run_case(worker, argv, cwd=where)
    check("report", outcome, allowed={0, 2, 3}, names=names, must_name_on={2})


# --- kubeconfigs ----------------------------------------------------------------------------------

KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "ci",
    "clusters": [{"name": "c", "cluster": {"server": NOWHERE}}],
    "users": [{"name": "u", "user": {"token": "fuzz-token-0123456789"}}],
    "contexts": [{"name": "ci", "context": {"cluster": "c", "user": "u", "namespace": "shop"}}],
}


@FUZZ
@given(data=st.data(), command=st.sampled_from(["lint", "drift", "audit", "suggest"]))
def test_kubeconfigs(worker: Worker, scratch: Path, data: st.DataObject, command: str) -> None:
    where = case_dir(scratch)
    kubeconfig = where / "kubeconfig"
    raw = dump_yaml([data.draw(broken_structure(KUBECONFIG))]).encode("utf-8", "surrogatepass")
    if data.draw(st.booleans()):
        raw = data.draw(damaged_bytes(raw))
    kubeconfig.write_bytes(raw)
    argv = {
        "lint": ["lint", "-n", "shop", "--kubeconfig", kubeconfig, *FAST_CLUSTER],
        "drift": ["drift", GOOD_VALUES, *DEPLOY, "--kubeconfig", kubeconfig, *FAST_CLUSTER, "--no-connectivity"],
        "audit": ["audit", "--flows", GOOD_FLOWS, "--desired", GOOD_DESIRED, *DEPLOY, "--kubeconfig", kubeconfig,
                  *FAST_CLUSTER],
        "suggest": ["suggest", "--from-flows", LEARN_FLOWS, "-r", "web", "-n", "shop", "--kubeconfig", kubeconfig,
                    *FAST_CLUSTER],
    }[command]  # fmt: skip
    outcome = run_case(worker, argv, cwd=where)
    # the cluster cannot be reached (3), or the kubeconfig is bad (2/3, naming the file or the server)
    check("kubeconfig", outcome, allowed={2, 3}, names=[str(kubeconfig), NOWHERE, "context", "kubeconfig"],
          must_name_on={2, 3})  # fmt: skip
    assert "fuzz-token-0123456789" not in outcome.output


# --- paths that are not regular files, for every input and output option ----------------------------


def _special(where: Path, kind: str) -> str:
    path = where / f"special-{kind}.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        return "/dev/zero"
    elif kind == "loop":
        (where / "loop-b.yaml").symlink_to(path)
        path.symlink_to(where / "loop-b.yaml")
    elif kind == "dangling":
        path.symlink_to(where / "nowhere.yaml")
    elif kind == "directory":
        path.mkdir()
        (path / "bad.yaml").symlink_to(where / "nowhere.yaml")  # a directory input with a dangling entry
    return str(path)


OPTIONS = {
    "validate VALUES": lambda p, w: ["validate", p],
    "render VALUES": lambda p, w: ["render", p, "-r", "r"],
    "render --values-out": lambda p, w: ["render", GOOD_VALUES, "-r", "r", "--values-out", p],
    "drift VALUES": lambda p, w: ["drift", p, *DEPLOY, "--live", GOOD_LIVE],
    "drift --live": lambda p, w: ["drift", GOOD_VALUES, *DEPLOY, "--live", p],
    "drift --desired": lambda p, w: ["drift", "--desired", p, "--live", GOOD_LIVE, "-n", "shop"],
    "drift -o": lambda p, w: ["drift", GOOD_VALUES, *DEPLOY, "--live", GOOD_LIVE, "-o", f"json:{p}"],
    "drift --comment-section": lambda p, w: ["drift", GOOD_VALUES, *DEPLOY, "--live", GOOD_LIVE, "--comment-section", p],
    "drift --kubeconfig": lambda p, w: ["drift", GOOD_VALUES, *DEPLOY, "--kubeconfig", p, *FAST_CLUSTER],
    "audit --flows": lambda p, w: ["audit", "--flows", p, "--desired", GOOD_DESIRED, "--live", GOOD_LIVE, *DEPLOY],
    "audit --live": lambda p, w: ["audit", "--flows", GOOD_FLOWS, "--desired", GOOD_DESIRED, "--live", p, *DEPLOY],
    "audit --desired": lambda p, w: ["audit", "--flows", GOOD_FLOWS, "--desired", p, "--live", GOOD_LIVE, *DEPLOY],
    "audit -o": lambda p, w: ["audit", "--flows", GOOD_FLOWS, "--desired", GOOD_DESIRED, "--live", GOOD_LIVE, *DEPLOY, "-o", p],
    "comment --report": lambda p, w: ["comment", "--report", p, "--comment-optional", "--environment", "production"],
    "comment --section": lambda p, w: ["comment", "--report", w / "drift.json", "--section", p, "--comment-optional", "--environment", "production"],
    "comment --markdown-out": lambda p, w: ["comment", "--report", w / "drift.json", "--markdown-out", p, "--comment-optional", "--environment", "production"],
    "connectivity PATH": lambda p, w: ["connectivity", p],
    "diff --before": lambda p, w: ["diff", "--before", p, "--after", GOOD_LIVE],
    "explain PATH": lambda p, w: ["explain", p],
    "lint PATH": lambda p, w: ["lint", p],
    "suggest --from-flows": lambda p, w: ["suggest", "--from-flows", p, "-r", "web", "-n", "shop"],
    "suggest --live": lambda p, w: ["suggest", "--from-flows", LEARN_FLOWS, "-r", "web", "-n", "shop", "--live", p],
}  # fmt: skip
#: Options whose file is written: a directory or a missing target is fine there (not an input).
OUTPUT_OPTIONS = {"render --values-out", "drift -o", "audit -o", "comment --markdown-out"}


@pytest.mark.parametrize("kind", ["fifo", "device", "loop", "dangling", "directory"])
@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_paths_that_are_not_regular_files(
    worker: Worker, scratch: Path, good_report: dict[str, Any], option: str, kind: str
) -> None:
    where = case_dir(scratch)
    (where / "drift.json").write_text(json.dumps(good_report))
    path = _special(where, kind)
    outcome = run_case(worker, OPTIONS[option](path, where), cwd=where)
    if option in OUTPUT_OPTIONS and kind == "dangling":
        # writing through a dangling link creates the file it names: fine, not an input
        check("not a regular file", outcome, allowed={0, 1, 3}, names=[path])
        return
    check("not a regular file", outcome, allowed={2, 3} if "kubeconfig" in option else {2}, names=[path, path.rsplit("/", 1)[0]])


@pytest.mark.parametrize("alias", ["itself", "symlink", "hardlink"])
@pytest.mark.parametrize(
    ("option", "input_option"),
    [
        ("drift -o", "values"), ("drift -o", "live"), ("audit -o", "flows"), ("audit -o", "live"),
        ("render --values-out", "values"), ("comment --markdown-out", "report"),
    ],
)  # fmt: skip
def test_no_output_overwrites_an_input(
    worker: Worker, scratch: Path, good_report: dict[str, Any], option: str, input_option: str, alias: str
) -> None:
    where = case_dir(scratch)
    sources = {"values": GOOD_VALUES, "live": GOOD_LIVE, "flows": GOOD_FLOWS}
    original = where / f"input-{input_option}.json"
    if input_option == "report":
        original.write_text(json.dumps(good_report))
    else:
        original.write_bytes(sources[input_option].read_bytes())
    before = original.read_bytes()
    target = original
    if alias == "symlink":
        target = where / "alias.json"
        target.symlink_to(original)
    elif alias == "hardlink":
        target = where / "alias.json"
        os.link(original, target)
    given = {key: (original if key == input_option else path) for key, path in sources.items()}
    argv = {
        "drift -o": ["drift", given["values"], *DEPLOY, "--live", given["live"], "-o", f"json:{target}"],
        "audit -o": ["audit", "--flows", given["flows"], "--desired", GOOD_DESIRED, "--live", given["live"], *DEPLOY,
                     "-o", f"{target}"],
        "render --values-out": ["render", given["values"], "-r", "r", "--values-out", target],
        "comment --markdown-out": ["comment", "--report", original, "--markdown-out", target, "--comment-optional", "--environment", "production"],
    }[option]  # fmt: skip
    outcome = run_case(worker, argv, cwd=where)
    check("output over input", outcome, allowed={2}, names=[str(target)])
    assert "over an input of this run" in outcome.output
    assert original.read_bytes() == before


def test_the_seeds_themselves_are_fine(worker: Worker, scratch: Path) -> None:
    """The generators start from inputs the tool accepts: a failure above is the mutation's doing."""
    where = case_dir(scratch)
    for seed in MANIFEST_SEEDS[:3]:
        path = where / "seed.yaml"
        path.write_text(yaml.safe_dump_all(seed))
        assert run_case(worker, ["lint", path], cwd=where).exit in (0, 1)
    flows = where / "flows.csv"
    flows.write_bytes(b"\n".join(CSV_LINES) + b"\n")
    assert run_case(worker, ["audit", "--flows", flows, "--no-live", "--desired", GOOD_DESIRED, *DEPLOY], cwd=where).exit in (0, 1)
    assert len(HUBBLE_LINES) > 10 and len(VALUES_SEEDS) > 5


# --- the cluster's answers: a real HTTP server serving generated malformed lists ------------------


class _HostileAPI:
    """An HTTP server standing in for the API server: every list is empty and well formed, except
    the resource the current example targets, which gets the generated body and status."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        api = self
        self.target = "networkpolicies"
        self.status = 200
        self.body = b"{}"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path.rstrip("/").endswith("/" + api.target):
                    status, body = api.status, api.body
                else:
                    status, body = 200, b'{"kind": "List", "apiVersion": "v1", "metadata": {}, "items": []}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hostile_api() -> Any:
    api = _HostileAPI()
    yield api
    api.close()


def _api_list(items: list[Any]) -> dict[str, Any]:
    return {"kind": "NetworkPolicyList", "apiVersion": "networking.k8s.io/v1", "metadata": {"resourceVersion": "1"},
            "items": items}  # fmt: skip


CLUSTER_TARGETS = ["networkpolicies", "namespaces", "deployments", "pods", "ciliumnetworkpolicies"]


@FUZZ
@given(
    data=st.data(),
    target=st.sampled_from(CLUSTER_TARGETS),
    status=st.sampled_from([200, 200, 200, 200, 404, 410, 500, 302]),
    command=st.sampled_from(["lint", "connectivity", "drift", "audit", "suggest"]),
)
def test_cluster_answers(
    worker: Worker, scratch: Path, hostile_api: _HostileAPI, data: st.DataObject, target: str, status: int, command: str
) -> None:
    where = case_dir(scratch)
    seed = _api_list([doc for docs in MANIFEST_SEEDS[:2] for doc in docs][:4])
    text = dump_json(data.draw(broken_structure(seed)))
    raw = text.encode("utf-8", "surrogatepass")
    if data.draw(st.integers(0, 3)) == 0:
        raw = data.draw(damaged_bytes(raw))
    hostile_api.target, hostile_api.status, hostile_api.body = target, status, raw
    kubeconfig = where / "kubeconfig"
    config = {**KUBECONFIG, "clusters": [{"name": "c", "cluster": {"server": hostile_api.url}}]}
    kubeconfig.write_text(json.dumps(config))
    cluster = ("--kubeconfig", kubeconfig, "--request-timeout", "3s", "--read-deadline", "4s")
    argv = {
        "lint": ["lint", "-n", "shop", *cluster],
        "connectivity": ["connectivity", "-n", "shop", *cluster, "--format", "json"],
        "drift": ["drift", GOOD_VALUES, *DEPLOY, *cluster, "--format", "markdown"],
        "audit": ["audit", "--flows", GOOD_FLOWS, "--desired", GOOD_DESIRED, *DEPLOY, *cluster],
        "suggest": ["suggest", "--from-flows", LEARN_FLOWS, "-r", "web", "-n", "shop", *cluster],
    }[command]
    outcome = run_case(worker, argv, cwd=where)
    # an answer the reader refuses is exit 3 naming the request or the server; a policy the engine
    # refuses is exit 2 naming the cluster listing it came from
    check("cluster answer", outcome, allowed={0, 1, 2, 3, 5}, names=[hostile_api.url, "list ", "cluster"],
          must_name_on={2, 3})  # fmt: skip
    assert "fuzz-token-0123456789" not in outcome.output
