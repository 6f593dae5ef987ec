"""Digits that str.isdigit accepts and int() rejects ("²") are not numbers anywhere (they were tracebacks)."""

from __future__ import annotations

import pytest

from autodeploy_netpol.checks.learn.cidrs import parse_prefix_bound
from autodeploy_netpol.desired.suggest import metrics_port
from autodeploy_netpol.policy import Model
from autodeploy_netpol.runs.connectivity import scrape_targets
from autodeploy_netpol.text import ascii_digits


def test_ascii_digits() -> None:
    assert ascii_digits("8080") and not ascii_digits("²") and not ascii_digits("") and not ascii_digits("٣")


def test_a_superscript_port_is_a_port_name_not_a_crash() -> None:
    policy = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "a", "namespace": "n"},
        "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": "²"}]}]},
    }
    assert len(Model.from_objects([policy]).policies) == 1


def test_a_superscript_metrics_port_is_no_metrics_port() -> None:
    assert metrics_port({"podAnnotations": {"prometheus.io/port": "²"}}) is None
    pod = {
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "namespace": "n",
            "labels": {"app": "web"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "²"},
        },
    }
    assert scrape_targets([pod]) == []


def test_a_superscript_prefix_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="is not N or N,M"):
        parse_prefix_bound("2²")
