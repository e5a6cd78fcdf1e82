#!/usr/bin/env node
// Checks that in a rendered overlay no ingress can reach a service's health, metrics or OpenAPI:
// each service enables Quarkus' management interface (application.properties), its Deployment
// declares the management port and probes it there, Prometheus scrapes it there, and the
// NetworkPolicy rule that lets the ingress controller in names the API port only.
//   node management.mjs RENDERED_YAML
import fs from "node:fs";
import { parseAllDocuments } from "yaml";

const SERVICES = ["twin-service", "command-service", "connectivity-service"];
const MANAGEMENT = 9000;
const objects = parseAllDocuments(fs.readFileSync(process.argv[2], "utf8")).map((d) => d.toJS()).filter(Boolean);
const failures = [];

for (const service of SERVICES) {
  const props = fs.readFileSync(`../../${service}/src/main/resources/application.properties`, "utf8");
  if (!/^quarkus\.management\.enabled=true$/m.test(props)) {
    failures.push(`${service}: quarkus.management.enabled=true missing (health and metrics would share the API port)`);
  }
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === service);
  if (!deployment) {
    failures.push(`${service}: no Deployment`);
    continue;
  }
  const template = deployment.spec.template;
  if (template.metadata?.annotations?.["prometheus.io/port"] !== String(MANAGEMENT)) {
    failures.push(`${service}: prometheus.io/port is not ${MANAGEMENT}`);
  }
  const container = template.spec.containers.find((c) => c.name === service);
  if (!container?.ports?.some((p) => p.name === "management" && p.containerPort === MANAGEMENT)) {
    failures.push(`${service}: no container port 'management' ${MANAGEMENT}`);
  }
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    if (container?.[probe]?.httpGet?.port !== "management") {
      failures.push(`${service}: ${probe} is not on the management port`);
    }
  }
}

const policies = objects.filter((o) => o.kind === "NetworkPolicy");
let ingressRules = 0;
for (const policy of policies) {
  for (const rule of policy.spec.ingress ?? []) {
    const fromIngress = (rule.from ?? []).some((f) =>
      f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "ingress-nginx");
    if (!fromIngress) continue;
    ingressRules++;
    const ports = (rule.ports ?? []).map((p) => p.port);
    if (ports.length === 0 || ports.includes(MANAGEMENT) || ports.includes("management")) {
      failures.push(`NetworkPolicy ${policy.metadata.name}: the ingress controller may reach port ${MANAGEMENT}`);
    }
  }
}
if (ingressRules === 0) failures.push("no NetworkPolicy rule for the ingress controller found (the check saw nothing)");

if (failures.length > 0) {
  failures.forEach((f) => console.log(f));
  process.exit(1);
}
console.log(`management ports: ${SERVICES.length} services, ${ingressRules} ingress rule(s) checked`);
