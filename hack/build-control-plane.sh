#!/usr/bin/env bash
# Builds the local Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok) and the renderers the Git sync
# needs (helm, kustomize) from Go modules, into a cache outside the repository.
#
# Why from Go modules: the machines that run our tests reach only package
# registries, so prebuilt release downloads (setup-envtest, GitHub releases) are
# out of reach; the Go module proxy is not.  Everything is pinned here so that
# every machine builds the same binaries.  A second run finds them and returns
# in about a second.
#
# Usage: hack/build-control-plane.sh            # build what is missing, print the bin dir
#        ROLLOUTS_BIN_CACHE=/path hack/...      # choose the cache root
set -euo pipefail

K8S_VERSION=v1.35.4          # k8s.io/kubernetes; staging modules are v0.<minor>.<patch>
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.7.0
HELM_VERSION=v3.19.5
KUSTOMIZE_VERSION=v5.8.1

cache_root=${ROLLOUTS_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rollouts/bin}
bin_dir="$cache_root/k8s-$K8S_VERSION"
mkdir -p "$bin_dir"
work_root="$cache_root/.build"
mkdir -p "$work_root"
export GOFLAGS="${GOFLAGS:-} -trimpath"
export CGO_ENABLED=0

log() { printf '[build-control-plane] %s\n' "$*" >&2; }

have() { [ -x "$bin_dir/$1" ]; }

build_kubernetes() {
  local wanted=(kube-apiserver kube-controller-manager kube-scheduler)
  local missing=()
  for b in "${wanted[@]}"; do have "$b" || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "building ${missing[*]} from k8s.io/kubernetes@$K8S_VERSION (cold build: several minutes)"
  local dir="$work_root/kubernetes-$K8S_VERSION"
  mkdir -p "$dir"
  cd "$dir"
  # k8s.io/kubernetes replaces its staging modules with local paths, which
  # `go install pkg@version` refuses; a throwaway module that pins every
  # staging module to the matching v0.x release builds the same code.
  if [ ! -f go.mod ]; then
    go mod init local/build-kubernetes >/dev/null 2>&1
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    local staging_version="v0.${K8S_VERSION#v1.}"
    {
      echo "require k8s.io/kubernetes $K8S_VERSION"
      grep -oE 'k8s.io/[a-z0-9-]+ => \./staging' "$gomod" | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
    } >> go.mod
    printf 'package tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"\n\t_ "k8s.io/kubernetes/cmd/kube-scheduler/app"\n)\n' > tools.go
    go mod tidy >&2
  fi
  for b in "${missing[@]}"; do
    log "  go build $b"
    go build -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)" \
      -o "$bin_dir/$b.tmp" "k8s.io/kubernetes/cmd/$b"
    mv "$bin_dir/$b.tmp" "$bin_dir/$b"
  done
}

build_etcd() {
  have etcd && return 0
  log "building etcd $ETCD_VERSION"
  local dir="$work_root/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  cd "$dir"
  if [ ! -f go.mod ]; then
    go mod init local/build-etcd >/dev/null 2>&1
    # The etcd binary is a thin main around etcdmain.Main; the root module that
    # holds that main has local replaces, so we supply the same three lines.
    printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > main.go
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
    go mod tidy >&2
  fi
  go build -ldflags "-s -w" -o "$bin_dir/etcd.tmp" .
  mv "$bin_dir/etcd.tmp" "$bin_dir/etcd"
}

go_install() {  # name module-path version
  local name=$1 pkg=$2 version=$3
  have "$name" && return 0
  log "building $name $version"
  GOBIN="$bin_dir/.gobin-$name" go install -ldflags "-s -w" "$pkg@$version" >&2
  mv "$bin_dir/.gobin-$name/$name" "$bin_dir/$name"
  rmdir "$bin_dir/.gobin-$name"
}

main() {
  local only=${1:-all}
  case "$only" in
    all)
      build_etcd
      go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
      build_kubernetes
      go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
      go_install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
      ;;
    etcd) build_etcd ;;
    kwok) go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" ;;
    kubernetes) build_kubernetes ;;
    helm) go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" ;;
    kustomize) go_install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION" ;;
    *) echo "unknown target $only" >&2; exit 2 ;;
  esac
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok helm kustomize; do
    if [ "$only" = all ] && ! have "$b"; then echo "missing $b after build" >&2; exit 1; fi
  done
  echo "$bin_dir"
}
main "$@"
