"""Checks: what the tool finds by comparing desired and live objects — drift, ownership, lint,
explain, the connectivity section and audit (pure: records in, records out)."""
