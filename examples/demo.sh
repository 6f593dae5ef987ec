#!/usr/bin/env bash
# The pipeline step on the bundled example project, without a cluster.
set -u
tool=${1:-autodeploy-netpol}
cd "$(dirname "$0")/shop" || exit 2
export HELM_RELEASE_NAME=production KUBE_NAMESPACE=shop-42-production CI_PROJECT_ID=42
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }

step autodeploy-netpol validate
"$tool" validate || exit $?

step autodeploy-netpol render --values-out /tmp/autodeploy-netpol-demo-values.yaml
"$tool" render --values-out /tmp/autodeploy-netpol-demo-values.yaml || exit $?

# Drift against a snapshot of the production namespace (live-snapshot.yaml: one policy edited
# by hand, one left over from an older values file, one saved by the GitLab UI editor) and of the
# cluster's namespaces and workloads (cluster.yaml), so the connectivity section names real pods.
# Exit code 1 means "drift found", which is what this snapshot shows.
out=${TMPDIR:-/tmp}/autodeploy-netpol-demo
mkdir -p "$out"
step autodeploy-netpol drift --live live-snapshot.yaml --live cluster.yaml -v --output "$out/drift.json" --output "$out/drift.md" --output "$out/junit.xml"
"$tool" drift --live live-snapshot.yaml --live cluster.yaml -v --output "$out/drift.json" --output "$out/drift.md" --output "$out/junit.xml"
code=$?
[ "$code" -le 1 ] || exit "$code"
printf '\n(exit code %s; JSON, Markdown and JUnit reports written to %s/)\n' "$code" "$out"
step head -n 24 "$out/drift.md"
head -n 24 "$out/drift.md"
exit 0
