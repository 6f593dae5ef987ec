"""`drift` against an API server imports only the parts of the Kubernetes client it uses.

The client's generated API classes pull in hundreds of generated models: importing the five the
reader would need cost a second of CPU, most of a drift run (bench/peers.py). The reader sends
its GETs through the client's ApiClient instead; this runs the real CLI in a fresh interpreter
against the cluster under test and lists what it imported.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from test_drift_from_cluster import CLEAN_ENV, EXAMPLE_VALUES, SERVER_SET, example_objects

pytestmark = [pytest.mark.live, pytest.mark.asyncio]

PROGRAM = """
import json, sys
from autodeploy_netpol.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
generated = sorted(
    name for name in sys.modules
    if name.startswith(("kubernetes.client.api.", "kubernetes.client.models."))
)
sys.stderr.write("\\nIMPORTS " + json.dumps({"code": code, "generated": generated,
                  "client": "kubernetes.client.api_client" in sys.modules}) + "\\n")
"""


async def test_drift_uses_no_generated_api_class_or_model(seeder) -> None:
    namespace = seeder.namespace()
    for item in example_objects(namespace):
        seeder.add({**item, "metadata": {k: v for k, v in item["metadata"].items() if k not in SERVER_SET}})
    args = [
        "drift", str(EXAMPLE_VALUES), "--release", "production", "--namespace", namespace,
        "--kubeconfig", seeder.kubeconfig, "--format", "json",
    ]  # fmt: skip
    environ = {k: v for k, v in __import__("os").environ.items() if k not in CLEAN_ENV}

    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", PROGRAM, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
    )

    report = json.loads(done.stderr.rsplit("IMPORTS ", 1)[1])
    assert report["code"] == 1, done.stderr  # the example's drift, read from the cluster
    assert json.loads(done.stdout)["summary"]["verdict"] == "drift"
    assert report["client"]  # the official client did the reading
    assert report["generated"] == []
