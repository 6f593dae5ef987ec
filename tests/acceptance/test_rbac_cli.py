import yaml


def documents_of(output: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(output) if d]


def test_rbac_for_a_namespace_prints_only_its_role_and_binding(cli):
    result = cli("rbac", "-n", "shop-42-production")
    assert result.exit_code == 0
    documents = documents_of(result.output)
    assert [d["kind"] for d in documents] == ["Role", "RoleBinding"]
    assert {d["metadata"]["namespace"] for d in documents} == {"shop-42-production"}
    role = documents[0]
    assert {verb for rule in role["rules"] for verb in rule["verbs"]} == {"get", "list"}


def test_rbac_comments_are_not_garbled_by_the_namespace(cli):
    result = cli("rbac", "-n", "shop-7-production")
    assert "KUBE_shop" not in result.output and "NAMESPACE" not in result.output.replace("KUBE_NAMESPACE", "")
    assert "Role and RoleBinding in namespace shop-7-production" in result.output
    # nothing cluster-wide unasked (comments may name the ClusterRole of --detection / -A)
    kinds = {document["kind"] for document in yaml.safe_load_all(result.output) if document}
    assert kinds == {"Role", "RoleBinding"}


def test_rbac_takes_the_namespace_from_kube_namespace(cli):
    result = cli("rbac", env={"KUBE_NAMESPACE": "shop-42-review-x"})
    assert result.exit_code == 0
    assert {d["metadata"]["namespace"] for d in documents_of(result.output)} == {"shop-42-review-x"}


def test_rbac_cluster_wide_parts_only_when_asked(cli):
    detection = documents_of(cli("rbac", "--detection").output)
    assert [(d["kind"], d["metadata"]["name"]) for d in detection] == [
        ("ClusterRole", "autodeploy-netpol-detection"),
        ("ClusterRoleBinding", "autodeploy-netpol-detection"),
    ]
    everything = documents_of(cli("rbac", "-n", "shop", "--detection", "-A").output)
    assert [d["kind"] for d in everything] == [
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
    ]


def test_rbac_without_anything_to_print_is_a_usage_error(cli):
    result = cli("rbac")
    assert result.exit_code == 2
    assert "--detection" in result.output


def test_rbac_refuses_a_bad_namespace(cli):
    result = cli("rbac", "-n", "Bad_NS")
    assert result.exit_code == 2
    assert "not a valid namespace name" in result.output
