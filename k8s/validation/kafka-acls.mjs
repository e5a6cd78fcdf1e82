#!/usr/bin/env node
// Checks that each service's Kafka user in the rendered prod overlay (KafkaUser, kafka-users.yaml)
// allows what the service's channels use (mp.messaging.* in its application.properties): Read on the
// topics it consumes, Write on those it produces, Read on its consumer groups. Without this a new
// channel would pass every test and be refused only in production (TOPIC_AUTHORIZATION_FAILED).
//   node kafka-acls.mjs RENDERED_PROD_YAML
import fs from "node:fs";
import { parseAllDocuments } from "yaml";

// Kafka clients that are not channels: command-service's registry view reads dt.devices without a
// group (RegisteredThingsView).
const BESIDES_CHANNELS = { "command-service": [{ topic: "dt.devices", op: "Read" }] };

const users = {};
for (const doc of parseAllDocuments(fs.readFileSync(process.argv[2], "utf8"))) {
  const o = doc.toJS();
  if (o?.kind === "KafkaUser") users[o.metadata.name] = o.spec.authorization?.acls ?? [];
}

function allows(acls, type, name, op) {
  return acls.some((a) => a.resource.type === type && a.operations.includes(op)
    && (a.resource.patternType === "prefix" ? name.startsWith(a.resource.name) : name === a.resource.name));
}

let failures = 0;
for (const service of ["twin-service", "command-service", "connectivity-service"]) {
  const props = fs.readFileSync(`../../${service}/src/main/resources/application.properties`, "utf8");
  const needs = [...(BESIDES_CHANNELS[service] ?? [])];
  for (const line of props.split("\n")) {
    const m = line.match(/^mp\.messaging\.(incoming|outgoing)\.[^.]+\.(topics?|group\.id)=(.*)$/);
    if (!m) continue;
    if (m[2] === "group.id") {
      needs.push({ group: m[3].split("${")[0].trim(), op: "Read" });
    } else {
      for (const t of m[3].split(",")) needs.push({ topic: t.trim(), op: m[1] === "incoming" ? "Read" : "Write" });
    }
  }
  const acls = users[service];
  if (!acls) {
    console.log(`MISSING KafkaUser ${service}`);
    failures++;
    continue;
  }
  for (const n of needs) {
    const ok = n.topic ? allows(acls, "topic", n.topic, n.op) : allows(acls, "group", n.group, n.op);
    console.log(`${ok ? "ok     " : "DENIED "} ${service} ${n.op} ${n.topic ? "topic " + n.topic : "group " + n.group}`);
    if (!ok) failures++;
  }
}
process.exit(failures ? 1 : 0);
