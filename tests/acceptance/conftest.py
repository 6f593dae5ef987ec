import pytest
from click.testing import CliRunner

from autodeploy_netpol.cli import main

DEPLOY_ENV = (
    "HELM_RELEASE_NAME",
    "CI_ENVIRONMENT_SLUG",
    "KUBE_NAMESPACE",
    "CI_PROJECT_ID",
    "NETPOL_INGRESS_NAMESPACE",
    "HELM_UPGRADE_VALUES_FILE",
    "AUTO_DEPLOY_CHART_VERSION",
    "KUBE_CONTEXT",
    "NETPOL_IN_CLUSTER",
    "NETPOL_MONITORING_NAMESPACE",
    "CI",
    "GITLAB_CI",
)


@pytest.fixture
def cli(monkeypatch):
    """Run the real CLI in-process; the deploy environment starts empty."""
    for name in DEPLOY_ENV:
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args, env=None, input=None):
        return runner.invoke(main, [str(a) for a in args], env=env, input=input, catch_exceptions=False)

    return invoke
