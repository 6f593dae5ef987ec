import pytest
import yaml

from autodeploy_netpol.desired.suggest import suggested_block, suggestion_yaml


@pytest.mark.parametrize("release", ["production", "review-feat-x", "true", "123", "null"])
def test_commented_yaml_is_the_block(release):
    parsed = yaml.safe_load(suggestion_yaml(release, "ingress-nginx"))
    assert parsed == {"networkPolicy": suggested_block(release, "ingress-nginx")}


def test_every_rule_is_explained_and_the_block_is_disabled():
    text = suggestion_yaml("production")
    assert "enabled: false" in text
    for rule in ("podSelector:", "policyTypes:", "- podSelector:", "- namespaceSelector:"):
        line_index = next(
            i for i, line in enumerate(text.splitlines()) if line.strip().startswith(rule.strip())
        )
        assert text.splitlines()[line_index - 1].strip().startswith("#"), rule
