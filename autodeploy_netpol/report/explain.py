"""Policies in plain words as text, JSON or Markdown (a section for the merge-request comment).
Pure. Policy names, labels and workload names come from the cluster; the Markdown form writes
them through :mod:`.escape`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..checks.explain import PolicyExplanation
from .escape import code, text

NO_POLICY = "no network policy in the input: every pod accepts and sends all traffic"


def explain_text(explanations: Sequence[PolicyExplanation]) -> str:
    if not explanations:
        return NO_POLICY + "\n"
    lines = []
    for explanation in explanations:
        lines.append(f"{explanation.policy} ({explanation.kind})")
        lines += [f"  {sentence}" for sentence in explanation.sentences]
    return "\n".join(lines) + "\n"


def explain_json(explanations: Sequence[PolicyExplanation]) -> dict[str, Any]:
    return {
        "policies": [
            {
                "policy": explanation.policy,
                "kind": explanation.kind,
                "applies_to": list(explanation.selects),
                "explanation": list(explanation.sentences),
            }
            for explanation in explanations
        ]
    }


def explain_markdown(explanations: Sequence[PolicyExplanation]) -> str:
    lines = ["### Network policies in plain words", ""]
    if not explanations:
        lines += [text(NO_POLICY[0].upper() + NO_POLICY[1:]) + ".", ""]
    for explanation in explanations:
        lines += [
            f"**{code(explanation.policy)}** ({text(explanation.kind)})",
            "",
            *(f"- {text(sentence)}" for sentence in explanation.sentences),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
