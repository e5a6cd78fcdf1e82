#!/usr/bin/env bash
# Renders each overlay with kubectl kustomize and validates every object against the Kubernetes and
# CRD schemas (validate.mjs). Run by k8s/pom.xml in `./doppel test`, after the Strimzi CRDs were
# generated into k8s/target/crds and the validator's packages installed with npm ci.
set -euo pipefail
cd "$(dirname "$0")"
crds=../target/crds
out=../target/rendered
mkdir -p "$out"
command -v kubectl >/dev/null || { echo "kubectl not found (install kubectl or Debian's kubernetes-client)"; exit 1; }

echo "== the realm import is generated from keycloak/twin-realm.json"
node realm-import.mjs > "$out/keycloak-realm-import.yaml"
if ! diff -u ../base/keycloak-realm-import.yaml "$out/keycloak-realm-import.yaml"; then
  echo "k8s/base/keycloak-realm-import.yaml is stale: node k8s/validation/realm-import.mjs > k8s/base/keycloak-realm-import.yaml"
  exit 1
fi

for overlay in dev prod; do
  echo "== overlay $overlay"
  kubectl kustomize "../overlays/$overlay" > "$out/$overlay.yaml"
  node validate.mjs --crds "$crds" "$out/$overlay.yaml"
  node management.mjs "$out/$overlay.yaml"
done

echo "== each service's Kafka user allows what its channels use (prod)"
node kafka-acls.mjs "$out/prod.yaml"

echo "== the validator rejects broken manifests"
kubectl kustomize broken > "$out/broken.yaml"
if node validate.mjs --crds "$crds" "$out/broken.yaml" > "$out/broken.txt"; then
  cat "$out/broken.txt"; echo "broken manifests passed validation"; exit 1
fi
for expected in "additional property 'replicaz'" "imagePullPolicy must be equal to one of the allowed values" \
    "port must be integer" "must have required property scaleTargetRef" \
    "/spec/partitions must be integer" "must NOT have additional properties 'replica'" "/spec/kafka/listeners/0/type must be equal"; do
  if ! grep -qF "$expected" "$out/broken.txt"; then
    cat "$out/broken.txt"; echo "the validator did not report: $expected"; exit 1
  fi
done
echo "broken manifests rejected as expected"
