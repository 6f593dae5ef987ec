#!/usr/bin/env bash
set -u
echo "demo: $1"
"$1" --help
