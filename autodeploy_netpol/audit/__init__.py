"""Audit mode: which recorded flows the policies a deploy puts in place would drop.

* :mod:`.flows` — streaming readers for Hubble's JSON export and a simple CSV (edge: files).
* :mod:`.evaluate` — pure: flows against the policies before and after the deploy, aggregated.
* :mod:`.report` — pure: the aggregated result as text, JSON or Markdown.
"""
