"""Digits that str.isdigit accepts and int() rejects ("²") are not numbers anywhere (they were
tracebacks); nor is a decimal of more digits than int() converts (4,300) a traceback anywhere."""

from __future__ import annotations

import pytest

from autodeploy_netpol.checks.learn.cidrs import parse_prefix_bound
from autodeploy_netpol.checks.ownership.fields import parse_managed_fields
from autodeploy_netpol.desired.suggest import metrics_port
from autodeploy_netpol.errors import GitLabError
from autodeploy_netpol.gitlab.target import merge_requests_from_environment
from autodeploy_netpol.policy import Model
from autodeploy_netpol.runs.connectivity import scrape_targets
from autodeploy_netpol.sources.flows import ReadStats, read_flows
from autodeploy_netpol.text import TOO_LARGE, ascii_digits, ascii_int, clip

#: More digits than int() converts from a string (sys.get_int_max_str_digits(): 4,300).
HUGE = "9" * 5000


def test_ascii_digits() -> None:
    assert ascii_digits("8080") and not ascii_digits("²") and not ascii_digits("") and not ascii_digits("٣")


def test_a_superscript_port_is_a_port_name_not_a_crash() -> None:
    policy = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "a", "namespace": "n"},
        "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": "²"}]}]},
    }
    assert len(Model.from_objects([policy]).policies) == 1


def _scraped_pod(port: str) -> dict[str, object]:
    annotations = {"prometheus.io/scrape": "true", "prometheus.io/port": port}
    return {
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "n", "labels": {"app": "web"}, "annotations": annotations},
    }


def test_a_superscript_metrics_port_is_no_metrics_port() -> None:
    assert metrics_port({"podAnnotations": {"prometheus.io/port": "²"}}) is None
    assert scrape_targets([_scraped_pod("²")]) == []


def test_a_superscript_prefix_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="is not N or N,M"):
        parse_prefix_bound("2²")


def test_ascii_int() -> None:
    assert [ascii_int(text) for text in ("8080", "0", "000", "0080", "²", "", "-1", " 1")] == [
        8080, 0, 0, 80, None, None, None, None
    ]
    assert ascii_int("9" * 19) == 10**19 - 1
    assert ascii_int("9" * 20) == TOO_LARGE and ascii_int(HUGE) == TOO_LARGE
    assert ascii_int("0" * 5000 + "7") == 7  # leading zeros are not digits of the value


def test_clip_keeps_short_text_and_names_the_length_of_long_text() -> None:
    assert clip("x" * 300) == "x" * 300
    clipped = clip(HUGE)
    assert clipped.startswith("9" * 200) and clipped.endswith("9" * 100 + " (5,000 characters)") and "…" in clipped
    assert len(clipped) < 330


def test_a_huge_number_is_out_of_range_at_every_reader_of_a_number(tmp_path) -> None:
    policy = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "a", "namespace": "n"},
        "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": HUGE}]}]},
    }
    with pytest.raises(Exception, match="port") as caught:  # the policy's error, not int()'s
        Model.from_objects([policy])
    assert "integer string conversion" not in str(caught.value)
    assert metrics_port({"podAnnotations": {"prometheus.io/port": HUGE}}) is None
    assert scrape_targets([_scraped_pod(HUGE)]) == []
    with pytest.raises(ValueError, match="IPv4 prefix /10000000000000000000 is not between 0 and 32"):
        parse_prefix_bound(HUGE)
    with pytest.raises(GitLabError, match="must be a positive number"):
        merge_requests_from_environment({"CI_MERGE_REQUEST_IID": HUGE})
    with pytest.raises(GitLabError, match="must be a positive number"):
        merge_requests_from_environment({"CI_MERGE_REQUEST_IID": str(2**63)})
    listed = merge_requests_from_environment(
        {"CI_OPEN_MERGE_REQUESTS": f"g/p!{HUGE},g/p!7", "CI_PROJECT_PATH": "g/p"}
    )
    assert listed.iids == (7,) and any("is not <project path>!<iid>" in note for note in listed.notes)
    managed = {
        "metadata": {
            "managedFields": [
                {"manager": "m", "operation": "Update", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {f"i:{HUGE}": {}, f"i:-{HUGE}": {}}}}
            ]
        }
    }
    parse_managed_fields(managed)  # an index no list reaches, not a traceback
    flows = tmp_path / "flows.csv"
    flows.write_text(f"shop,app=web,shop,app=api,,TCP,{HUGE}\nshop,app=web,shop,app=api,,TCP,8080\n")
    stats = ReadStats()
    read = list(read_flows([str(flows)], stats))
    assert [flow.port for flow in read] == [8080]
    assert stats.malformed == 1 and "is not a number from 1 to 65535" in stats.malformed_examples[0].message


def test_validate_a_huge_quoted_cilium_port_is_exit_2_with_the_number_clipped(tmp_path) -> None:
    from click.testing import CliRunner

    from autodeploy_netpol.cli import main

    values = tmp_path / "values.yaml"
    values.write_text(
        "ciliumNetworkPolicy:\n  spec:\n    endpointSelector: {}\n    ingress:\n"
        f"    - toPorts:\n      - ports:\n        - port: {HUGE}\n"
    )
    result = CliRunner().invoke(main, ["validate", str(values)])
    assert result.exit_code == 2, result.output
    assert f"{values}:7:17:" in result.output and "is outside 1–65535" in result.output
    assert "(5,000 characters)" in result.output and HUGE not in result.output


@pytest.mark.parametrize(
    "values",
    [
        f'networkPolicy:\n  enabled: "{"x" * 5000}"\n',
        f'networkPolicy:\n  enabled: "{"off" + " " * 5000}"\n',
        f"networkPolicy:\n  enabled: {'1' * 4000}\n",
        f'networkPolicy:\n  spec:\n    ingress:\n    - ports:\n      - port: "{"8" * 5000}"\n',
        f"networkPolicy:\n  spec:\n    ingress:\n    - ports:\n      - port: 80\n        endPort: {'9' * 4000}\n",
        f'networkPolicy:\n  spec:\n    ingress:\n    - ports:\n      - port: 80\n        endPort: "{"9" * 5000}"\n',
    ],
    ids=["enabled-string", "enabled-off-padded", "enabled-number", "quoted-port", "end-port", "quoted-end-port"],
)
def test_validate_quotes_a_huge_value_clipped(tmp_path, values: str) -> None:
    """Whatever a message quotes from the file is clipped (text.clip): no line of the report
    carries the whole 5,000-character value."""
    from click.testing import CliRunner

    from autodeploy_netpol.cli import main

    path = tmp_path / "values.yaml"
    path.write_text(values)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code in (0, 2), result.output
    assert "characters)" in result.output, result.output[:2000]
    assert max(len(line) for line in result.output.splitlines()) < 1000
