"""Input the API server would reject, read as it would be: an error (exit 2, with where and how to
fix) when the analysis depends on it, a warning in every report otherwise; an object given again
in a later PATH replaces the earlier one; objects without a namespace need diff --namespace."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from autodeploy_netpol.cli import main

POD = "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: a, labels: {labels}}}\n"
POLICY = (
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: a}}\n"
    "spec: {{podSelector: {{matchLabels: {selector}}}, policyTypes: [Ingress]}}\n"
)


def write(path: Path, *documents: str) -> str:
    path.write_text("---\n".join(documents))
    return str(path)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_an_invalid_label_key_a_selector_reads_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path / "in.yaml",
        POD.format(name="p", labels='{"bad key!": x, app: web}'),
        POLICY.format(name="np", selector='{"bad key!": x}'),
    )
    code, _, err = run("connectivity", path)
    assert code == 2
    assert "in.yaml:3:" in err and "Pod a/p: label key 'bad key!' is not valid" in err
    assert "hint: a label key is [prefix/]name" in err and "Traceback" not in err


def test_an_invalid_label_key_no_selector_reads_is_a_warning_in_every_format(tmp_path: Path) -> None:
    path = write(
        tmp_path / "in.yaml",
        POD.format(name="p", labels='{"bad key!": x, app: web}'),
        POLICY.format(name="np", selector="{app: web}"),
    )
    code, out, _ = run("connectivity", path)
    assert code == 0 and "Warnings (the API server would reject these; read anyway)" in out
    assert (
        "label key 'bad key!' is not valid (the API server rejects this; no selector reads this label)" in out
    )
    code, out, _ = run("connectivity", path, "--format", "json")
    assert code == 0 and any("bad key!" in warning for warning in json.loads(out)["warnings"])
    code, out, _ = run("connectivity", path, "--format", "markdown")
    assert code == 0 and "the API server would reject" in out
    code, _, err = run("connectivity", path, "--format", "csv")
    assert code == 0 and "warning: " in err and "bad key!" in err


def test_two_objects_of_one_kind_and_name_in_one_path_are_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path / "in.yaml",
        POD.format(name="p", labels="{app: web}"),
        POD.format(name="p", labels="{app: db}"),
        POLICY.format(name="np", selector="{app: web}"),
    )
    code, _, err = run("connectivity", path)
    assert code == 2 and "Pod a/p given twice (first at " in err and "in.yaml:1:1)" in err


def test_a_later_path_replaces_an_earlier_ones_object(tmp_path: Path) -> None:
    first = write(
        tmp_path / "first.yaml",
        POD.format(name="p", labels="{app: web}"),
        POLICY.format(name="np", selector="{app: web}"),
    )
    second = write(tmp_path / "second.yaml", POLICY.format(name="np", selector="{app: nothing}"))
    code, out, _ = run("connectivity", first, second, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert any("replaces the earlier one" in note for note in report["notes"])
    # the replacing policy selects nothing: the pod is open again
    assert any(c["dst"] == "a/p" for c in report["connections"])


def test_diff_refuses_objects_without_a_namespace_unless_told_where_they_go(tmp_path: Path) -> None:
    homeless = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: web}}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress]}\n"
    )
    (tmp_path / "after.yaml").write_text(homeless)
    before = write(
        tmp_path / "before.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop, labels: {app: web}}\n",
    )
    code, _, err = run("diff", "--before", before, "--after", str(tmp_path / "after.yaml"))
    assert code == 2 and "name no namespace" in err and "--namespace" in err
    code, out, _ = run("diff", "--before", before, "--after", str(tmp_path / "after.yaml"), "-n", "shop")
    assert code == 1 and "pairs lose" in out
