"""Load the ownership fixture snapshots (tests/fixtures/ownership) as plain manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).parent / "fixtures" / "ownership"
NAMESPACE = "shop-42-production"
RELEASE = "production"


def live(name: str) -> list[dict[str, Any]]:
    """The items of one live snapshot file (``kind: List``)."""
    return list(yaml.safe_load((FIXTURES / f"{name}.yaml").read_text())["items"])


def live_object(name: str, object_name: str) -> dict[str, Any]:
    """One object of a live snapshot file, by name."""
    return next(o for o in live(name) if o["metadata"]["name"] == object_name)


def desired(name: str = "desired") -> list[dict[str, Any]]:
    """Desired objects (render output) of a fixture file."""
    return [d for d in yaml.safe_load_all((FIXTURES / f"{name}.yaml").read_text()) if d]
