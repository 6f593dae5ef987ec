import yaml


def test_rbac_prints_the_shipped_role_for_a_namespace(cli):
    result = cli("rbac", "-n", "shop-42-production")
    assert result.exit_code == 0
    documents = [d for d in yaml.safe_load_all(result.output) if d]
    namespaced = [d for d in documents if d["kind"] in ("Role", "RoleBinding")]
    assert {d["metadata"]["namespace"] for d in namespaced} == {"shop-42-production"}
    role = next(d for d in namespaced if d["kind"] == "Role")
    assert {verb for rule in role["rules"] for verb in rule["verbs"]} == {"get", "list"}


def test_rbac_refuses_a_bad_namespace(cli):
    result = cli("rbac", "-n", "Bad_NS")
    assert result.exit_code == 2
    assert "not a valid namespace name" in result.output
