#!/usr/bin/env bash
# Regenerates rollouts/api/podtemplate_fields.json: Go's JSON field order and
# omitempty rules for corev1.PodTemplateSpec, which the pod-template hash needs.
# Pinned to the k8s.io/api release of hack/build-control-plane.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/gen-podtemplate-order/main.go" "$work/"
cd "$work"
go mod init local/gen-podtemplate-order >/dev/null 2>&1
go get k8s.io/api@v0.35.4 k8s.io/apimachinery@v0.35.4 >/dev/null 2>&1
go mod tidy >/dev/null 2>&1
go run . > "$here/../rollouts/api/podtemplate_fields.json"
echo "wrote rollouts/api/podtemplate_fields.json" >&2
