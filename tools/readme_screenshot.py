"""`make screenshot`: the README's picture of the example's merge-request comment.

Runs ``drift`` on the bundled example (examples/shop: the values file against its policy snapshot
and its cluster's namespaces and workloads, as examples/demo.sh does), takes the comment's
connectivity section (everything above the drift summary) and draws it as GitLab shows a note:
the Markdown rendered and the Mermaid graph drawn by the pinned ``mermaid`` package in Debian's
Chromium through playwright-core (tests/mermaid_page.py, the same page the render tests use).

Usage: python tools/readme_screenshot.py OUTPUT.png   (needs `make tools` and chromium)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "shop"
ENV = {"HELM_RELEASE_NAME": "production", "KUBE_NAMESPACE": "shop-42-production", "CI_PROJECT_ID": "42"}
#: The comment's drift summary starts here; the picture is of what comes before it.
SUMMARY = "⚠️ **Drift found**"


def example_section() -> str:
    """The connectivity section of the example's drift comment, as the CLI writes it."""
    command = [
        sys.executable, "-c", "from autodeploy_netpol.cli import main; main()",
        "drift", ".gitlab/auto-deploy-values.yaml", "--live", "live-snapshot.yaml", "--live", "cluster.yaml",
        "--format", "markdown",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=EXAMPLE, env={**os.environ, **ENV}, capture_output=True, text=True, check=False
    )
    if result.returncode != 1 or SUMMARY not in result.stdout:
        raise SystemExit(
            f"drift on the example exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout.split(SUMMARY, 1)[0].rstrip() + "\n"


def screenshot(output: Path) -> list[dict[str, object]]:
    """Write the PNG to ``output`` (an absolute path); the graphs as drawn are returned."""
    sys.path.insert(0, str(ROOT / "tests"))
    from mermaid_page import draw_note
    from toolchain import MERMAID_JS, Browser

    chromium = os.environ.get("NETPOL_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("chromium not found: apt-get install --no-install-recommends chromium")
    if not MERMAID_JS.is_file():
        raise SystemExit("mermaid not installed: run `make tools`")
    with tempfile.TemporaryDirectory(prefix="netpol-screenshot-") as work:
        place = Path(work)
        note = draw_note(Browser(Path(chromium), place), MERMAID_JS, place, example_section(), output)
    failed = [graph["error"] for graph in note.graphs if graph["error"]]
    if failed or note.page_errors or not output.is_file():
        raise SystemExit(f"the graph did not render: {failed or note.page_errors}")
    return note.graphs


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    output = Path(sys.argv[1]).resolve()  # the browser runs in a directory of its own
    output.parent.mkdir(parents=True, exist_ok=True)
    screenshot(output)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
