#!/usr/bin/env bash
# Renders deploy/kubernetes with `kubectl kustomize` (the base, every overlay, and every overlay with every optional
# component) and validates each object offline with validate.mjs: Kubernetes', KEDA's and the Prometheus Operator's
# schemas, the references between objects, and the pods' security settings. Needs kubectl and Node.js with npm; the
# validators are pinned in package.json/package-lock.json and installed here (node_modules, git-ignored) on first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fail() { printf 'validate.sh: %s\n' "$*" >&2; exit 1; }
command -v kubectl >/dev/null 2>&1 || fail "kubectl is needed (its built-in kustomize renders the manifests)"
command -v npm >/dev/null 2>&1 || fail "Node.js and npm are needed (apt-get install nodejs npm)"

if [[ ! -d $here/node_modules/kubernetes-models || $here/package-lock.json -nt $here/node_modules/.package-lock.json ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || fail "npm ci failed in $here"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A copy of deploy/ (the base includes ../../observability), where the overlay-with-component renderings can live.
mkdir "$work/deploy"
tar -C "$here/.." --exclude=node_modules -cf - . | tar -C "$work/deploy" -xf -
root=$work/deploy/kubernetes
renderings=()
render() { # name, kustomization directory
  kubectl kustomize "$2" >"$work/$1.yaml" || fail "kubectl kustomize $2 failed"
  renderings+=("$work/$1.yaml")
}

render base "$root/base"
for overlay in "$root"/overlays/*/; do
  name=$(basename "$overlay")
  render "$name" "$overlay"
  for component in "$root"/components/*/; do
    with=$root/.with-$name-$(basename "$component")
    mkdir -p "$with"
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../overlays/%s\ncomponents:\n  - ../components/%s\n' \
      "$name" "$(basename "$component")" >"$with/kustomization.yaml"
    render "$name+$(basename "$component")" "$with"
  done
done

# The key ring's certificate is the one Secret made out of band (README, "Kubernetes").
node "$here/validate.mjs" --external aggregator-keyring "${renderings[@]}"
