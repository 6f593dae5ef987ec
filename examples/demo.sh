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
