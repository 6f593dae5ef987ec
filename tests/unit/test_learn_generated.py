"""The learner against known policy sets on generated clusters.

For each seed: a generated Auto DevOps environment (tests/learn_support.py), a known policy set
for the app's pods, every connection with an app pod at a constrained end split into allowed and
denied by that set, about 90% of the allowed ones recorded as ``hubble observe -o jsonpb`` lines
(with replies, established packets and unrelated traffic mixed in), then the real pipeline:
reader → recorder → learner → proof. Required:

* the learned policy drops none of the recorded flows (the proof, and the engine asked again
  independently, connection by connection);
* it denies at least 95% of the connections the known policy set denies.

A control learner that keeps the recorded ports but not the peers is measured the same way and
must fall short of 95%: the measure can tell a narrow policy from a loose one.
"""

from __future__ import annotations

import copy

import pytest
from learn_support import (
    connection_universe,
    endpoint_of,
    generate_environment,
    generating_policies,
    record,
    split_by_policy,
)

from autodeploy_netpol.checks.learn import LearnSettings
from autodeploy_netpol.policy import Model
from autodeploy_netpol.runs.learn import LearnRequest, run_learn

SEEDS = range(1, 9)
REQUIRED = 0.95


def _denied_share(model: Model, denied) -> tuple[int, int]:
    kept = sum(
        1
        for source, destination, protocol, port in denied
        if not model.verdict(endpoint_of(source), endpoint_of(destination), protocol, port).allowed
    )
    return kept, len(denied)


def _ports_only(objects: list[dict]) -> list[dict]:
    """The control: the same objects with every peer list removed (any peer, recorded ports)."""
    loose = copy.deepcopy(objects)
    for obj in loose:
        spec = obj["spec"]
        for direction, key in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(direction) or []:
                rule.pop(key, None)
                for entity_key in ("fromEntities", "toEntities"):
                    rule.pop(entity_key, None)
    return loose


def run_seed(seed: int, egress: bool, tmp_path) -> dict:
    env = generate_environment(seed)
    policies = generating_policies(seed, env, egress=egress)
    allowed, denied = split_by_policy(env, policies, connection_universe(env, egress=egress))
    path = tmp_path / f"flows-{seed}-{egress}.jsonl"
    recorded = record(path, env, allowed, seed=seed)
    outcome = run_learn(LearnRequest((str(path),), LearnSettings("production", "shop", egress=egress)))
    learned_objects = outcome.learned.manifests()
    model = Model.from_objects(env.objects(learned_objects))
    dropped = [
        (source, destination, protocol, port)
        for source, destination, protocol, port in recorded
        if not model.verdict(endpoint_of(source), endpoint_of(destination), protocol, port).allowed
    ]
    kept, total = _denied_share(model, denied)
    control_kept, _ = _denied_share(Model.from_objects(env.objects(_ports_only(learned_objects))), denied)
    return {
        "outcome": outcome,
        "dropped": dropped,
        "kept": kept,
        "denied": total,
        "control": control_kept,
        "recorded": len(recorded),
    }


@pytest.mark.parametrize("egress", [False, True], ids=["ingress", "ingress+egress"])
def test_learned_policy_keeps_every_recorded_flow_and_denies_what_the_known_policy_denies(egress, tmp_path):
    kept = denied = control = 0
    for seed in SEEDS:
        result = run_seed(seed, egress, tmp_path)
        outcome = result["outcome"]
        assert outcome.proof.passed, f"seed {seed}: {outcome.proof.audit.dropped_groups}"
        assert outcome.proof.audit.flows > 0
        assert result["dropped"] == [], f"seed {seed}"
        share = result["kept"] / result["denied"]
        assert share >= REQUIRED, f"seed {seed}: denies {result['kept']}/{result['denied']} = {share:.3f}"
        kept += result["kept"]
        denied += result["denied"]
        control += result["control"]
    print(
        f"\n{'ingress+egress' if egress else 'ingress'}: learned policies deny {kept}/{denied} = {kept / denied:.4f} "
        f"of the connections the known policies deny; ports-only control {control}/{denied} = {control / denied:.4f}"
    )
    assert kept / denied >= REQUIRED
    assert control / denied < REQUIRED  # the measure can fail
