"""Exit codes that tell the truth and outputs that never clobber inputs, through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "examples" / "shop" / ".gitlab" / "auto-deploy-values.yaml"
AUDIT = ROOT / "tests" / "data" / "audit"
DRIFT = ROOT / "tests" / "fixtures" / "drift"


def test_a_date_like_label_key_is_read_as_helm_reads_it_by_every_command(cli, tmp_path: Path) -> None:
    # It used to pass validate and crash drift with exit 1 ("drift found") and a traceback. Values
    # are read as Helm reads them (Go's yaml.v2): the key is the string "2024-01-01" everywhere.
    values = tmp_path / "values.yaml"
    values.write_text(
        "networkPolicy:\n  enabled: true\n  spec:\n    podSelector:\n      matchLabels:\n"
        "        2024-01-01: x\n    policyTypes: [Ingress]\n"
    )
    live = tmp_path / "live.yaml"
    live.write_text("kind: List\nitems: []\n")
    assert cli("validate", values).exit_code == 0
    rendered = cli("render", values, "-r", "r", "--format", "json")
    assert rendered.exit_code == 0, rendered.output
    policy = json.loads(rendered.stdout)["items"][0]
    assert policy["spec"]["podSelector"]["matchLabels"] == {"2024-01-01": "x"}
    drift = cli("drift", values, "-r", "r", "-n", "ns", "--live", live, "--format", "json")
    assert drift.exit_code == 1, drift.output  # missing: the deploy creates it
    assert "Traceback" not in drift.output


def test_a_key_that_is_not_a_string_in_a_manifest_is_an_error_at_its_position(cli, tmp_path: Path) -> None:
    # manifests (snapshots, streams) are data, not Helm input: such a key is refused where it is
    live = tmp_path / "live.yaml"
    live.write_text(
        "kind: NetworkPolicy\nmetadata: {name: a, namespace: ns}\nspec:\n  podSelector:\n"
        "    matchLabels:\n      2024-01-01: x\n"
    )
    result = cli("lint", live)
    assert result.exit_code == 2, result.output
    assert f"{live}:6:7: the key '2024-01-01' is read as a date" in result.output


@pytest.fixture
def crashing_values(monkeypatch):
    """An unexpected exception inside a command (a bug), carrying a credential in its text."""
    monkeypatch.setenv("NETPOL_GITLAB_TOKEN", "glpat-crash-secret-token")

    def crash(path):
        raise RuntimeError("boom while holding glpat-crash-secret-token\nsecond line")

    monkeypatch.setattr("autodeploy_netpol.desired.values.read_values", crash)
    monkeypatch.setattr("autodeploy_netpol.runs.validate.read_values", crash)
    monkeypatch.delenv("NETPOL_DEBUG", raising=False)


def test_an_unexpected_error_is_exit_70_with_one_masked_line(cli, crashing_values) -> None:
    result = cli("validate", VALUES)
    assert result.exit_code == 70
    assert "Traceback" not in result.output
    assert result.output.startswith("internal error: RuntimeError: boom while holding [MASKED] second line\n")
    assert "--debug" in result.output
    assert "glpat-crash-secret-token" not in result.output


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_debug_prints_the_masked_traceback(cli, crashing_values, monkeypatch, how: str) -> None:
    if how == "flag":
        result = cli("--debug", "validate", VALUES)
    else:
        monkeypatch.setenv("NETPOL_DEBUG", "1")
        result = cli("validate", VALUES)
    assert result.exit_code == 70
    assert "Traceback (most recent call last)" in result.output
    assert "glpat-crash-secret-token" not in result.output


def test_exit_70_is_documented_in_readme_and_help(cli) -> None:
    readme = (ROOT / "README.md").read_text()
    assert "| 70 |" in readme
    assert "70 internal error" in cli("--help").output
    for command in ("drift", "audit", "validate", "connectivity", "lint", "comment", "suggest"):
        help_text = cli(command, "--help").output
        if "Exit codes" in help_text:
            assert "70" in help_text, command


def _aliases(tmp_path: Path, source: Path, stem: str, suffix: str) -> dict[str, Path]:
    """The file itself, a symbolic link and a hard link to it, all with ``suffix`` (the format)."""
    own = tmp_path / f"{stem}{suffix}"
    shutil.copy(source, own)
    link = tmp_path / f"{stem}-symlink{suffix}"
    link.symlink_to(own)
    hard = tmp_path / f"{stem}-hardlink{suffix}"
    os.link(own, hard)
    return {"itself": own, "symlink": link, "hardlink": hard}


@pytest.mark.parametrize("alias", ["itself", "symlink", "hardlink"])
def test_no_output_option_overwrites_an_input(cli, tmp_path: Path, alias: str) -> None:
    values = _aliases(tmp_path, VALUES, "values", ".yaml")
    live = _aliases(tmp_path, DRIFT / "live-drift.yaml", "live", ".json")
    flows = _aliases(tmp_path, AUDIT / "hubble-flows.jsonl", "flows", ".txt")
    report = tmp_path / "drift.json"
    # the snapshot's namespace: a namespace missing from the snapshot is an error (issue 15)
    made = cli("drift", VALUES, "-r", "production", "-n", "shop-42-production", "--live",
               DRIFT / "live-drift.yaml", "--no-connectivity", "-o", report)
    assert made.exit_code in (0, 1), made.output
    report_aliases = _aliases(tmp_path, report, "report", ".json")
    runs = [
        ("drift", values["itself"], "-r", "production", "-n", "shop", "--live", live["itself"],
         "--no-connectivity", "-o", f"json:{values[alias]}"),
        ("drift", values["itself"], "-r", "production", "-n", "shop", "--live", live["itself"],
         "--no-connectivity", "-o", live[alias]),
        ("audit", values["itself"], "--flows", flows["itself"], "--live", AUDIT / "live.yaml", "-n", "shop",
         "-r", "production", "-o", flows[alias]),
        ("audit", "--desired", live["itself"], "--flows", AUDIT / "hubble-flows.jsonl", "--live",
         AUDIT / "live.yaml", "-n", "shop", "-r", "production", "-o", live[alias]),
        ("comment", "--report", report_aliases["itself"], "--markdown-out", report_aliases[alias],
         "--environment", "production"),
        ("render", values["itself"], "-r", "production", "--values-out", values[alias]),
    ]
    before = {path: path.read_bytes() for group in (values, live, flows, report_aliases) for path in group.values()}
    for args in runs:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "over an input of this run" in result.output, result.output
    assert {path: path.read_bytes() for path in before} == before


def test_outputs_replace_their_file_atomically(cli, tmp_path: Path) -> None:
    out = tmp_path / "drift.json"
    out.write_text("previous run")
    result = cli("drift", VALUES, "-r", "production", "-n", "shop-42-production", "--live",
                 DRIFT / "live-drift.yaml", "--no-connectivity", "-o", out, "-q")
    assert result.exit_code in (0, 1), result.output
    assert json.loads(out.read_text())["summary"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drift.json"]


@pytest.mark.parametrize("value", [[[]], "x", 5, [None]])
def test_a_report_with_a_broken_connectivity_section_is_an_input_error(cli, tmp_path: Path, value) -> None:
    # found by the fuzz suite: the schema did not describe the section, and comment crashed on it
    report = tmp_path / "drift.json"
    result = cli("drift", VALUES, "-r", "production", "-n", "shop-42-production",
                 "--live", ROOT / "examples" / "shop" / "live-snapshot.yaml", "-q", "-o", report)  # fmt: skip
    assert result.exit_code == 1, result.output
    document = json.loads(report.read_text())
    document["connectivity"]["added"] = value
    report.write_text(json.dumps(document, indent=2))
    result = cli("comment", "--report", report, "--comment-optional", "--markdown-out", tmp_path / "note.md")
    assert result.exit_code == 2, result.output
    assert f"{report}:" in result.output and "connectivity/added" in result.output
    assert "Traceback" not in result.output


BAD_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: fine
  namespace: shop
spec:
  podSelector: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingres]
"""


@pytest.mark.parametrize(
    "command",
    ["connectivity", "lint", "explain", "diff", "drift --desired", "drift --live", "audit --desired", "audit --live",
     "suggest --live"],
)  # fmt: skip
def test_an_error_in_a_policy_names_its_file_line_and_object(cli, tmp_path: Path, command: str) -> None:
    # It used to say only "policyTypes entry 'Ingres' is not Ingress or Egress", naming neither.
    bad = tmp_path / "policies.yaml"
    bad.write_text(BAD_POLICY)
    live = AUDIT / "live.yaml"
    flows = AUDIT / "hubble-flows.jsonl"
    args = {
        "connectivity": ("connectivity", bad),
        "lint": ("lint", bad),
        "explain": ("explain", bad),
        "diff": ("diff", "--before", live, "--after", bad),
        "drift --desired": ("drift", "--desired", bad, "--live", live, "-n", "shop"),
        "drift --live": ("drift", VALUES, "-r", "production", "-n", "shop", "--live", bad),
        "audit --desired": ("audit", "--flows", flows, "--desired", bad, "--live", live, "-r", "production", "-n", "shop"),
        "audit --live": ("audit", "--flows", flows, "--desired", AUDIT / "desired.yaml", "--live", bad, "-r", "production",
                         "-n", "shop"),
        "suggest --live": ("suggest", "--from-flows", ROOT / "tests" / "fuzz" / "learn-flows.csv", "-r", "web", "-n",
                           "shop", "--live", bad),
    }[command]  # fmt: skip
    result = cli(*args)
    assert "Traceback" not in result.output
    if command.startswith("drift"):
        # drift's report is never lost to its connectivity section: the policy is left out, said so
        assert result.exit_code == 1, result.output
        assert "NetworkPolicy shop/web" in result.output and "policyTypes entry 'Ingres'" in result.output
        return
    assert result.exit_code == 2, result.output
    assert f"{bad}:16:17: NetworkPolicy shop/web: policyTypes entry 'Ingres' is not Ingress or Egress" in result.output
