#!/usr/bin/env node
// Validates rendered Kubernetes manifests (the multi-document output of `kubectl kustomize`).
//   node validate.mjs --crds DIR [FILE|-]        (default: standard input)
// Exit code 1 when any object is invalid or of a kind no schema is known for.
//
// Built-in kinds: the validators of kubernetes-models (generated from Kubernetes' OpenAPI spec:
// types, required fields, enums, formats), plus a strict walk over @kubernetes/client-node's
// generated field lists (the same spec) that rejects unknown fields, as the API server's strict
// field validation does.
// Custom resources: each CRD's openAPIV3Schema (from --crds) compiled with ajv, with Kubernetes'
// structural-schema rules: fields not declared are errors unless x-kubernetes-preserve-unknown-fields
// or additionalProperties allow them; int-or-string and nullable as Kubernetes reads them. CEL rules
// (x-kubernetes-validations) are not evaluated.
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import Ajv from "ajv";
import * as models from "@kubernetes/client-node/dist/gen/models/all.js";

// Kinds whose CRD no registry reachable from the build machines publishes (the Keycloak operator's
// CRDs are only on GitHub and quay.io). They are reported, not failed; docs/operations.md says so.
const WITHOUT_PUBLISHED_SCHEMA = new Set([
  "k8s.keycloak.org/v2alpha1/Keycloak",
  "k8s.keycloak.org/v2alpha1/KeycloakRealmImport",
]);

const args = process.argv.slice(2);
let crdDir = null;
let file = "-";
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--crds") crdDir = args[++i];
  else file = args[i];
}

// ---------- custom resources ----------
const DROPPED = new Set(["x-kubernetes-validations", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type", "x-kubernetes-embedded-resource", "x-kubernetes-group-version-kind"]);

function structural(schema, isRoot = false) {
  if (!schema || typeof schema !== "object") return schema;
  if (Array.isArray(schema)) return schema.map((s) => structural(s));
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties" || key === "patternProperties") {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structural(v)]));
    } else if (["items", "additionalProperties", "not"].includes(key) && typeof value === "object") {
      out[key] = structural(value);
    } else if (["allOf", "anyOf", "oneOf"].includes(key)) {
      out[key] = value.map((s) => structural(s));
    } else if (!DROPPED.has(key)) {
      out[key] = value;
    }
  }
  if (out.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  delete out.nullable;
  if (out["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  delete out["x-kubernetes-int-or-string"];
  const preserve = out["x-kubernetes-preserve-unknown-fields"] === true;
  delete out["x-kubernetes-preserve-unknown-fields"];
  if (isRoot) {
    out.properties = { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" },
      ...(out.properties || {}) };
  }
  if (out.properties && out.additionalProperties === undefined && !preserve) out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const crdSchemas = new Map();
if (crdDir) {
  for (const name of fs.readdirSync(crdDir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(crdDir, name), "utf8"))) {
      const crd = doc.toJS();
      if (!crd || crd.kind !== "CustomResourceDefinition") continue;
      for (const version of crd.spec.versions || []) {
        const schema = version.schema?.openAPIV3Schema;
        if (schema) crdSchemas.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, schema);
      }
    }
  }
}

function validateCustom(key, obj) {
  let check = crdSchemas.get(key);
  if (typeof check !== "function") {
    check = ajv.compile(structural(check, true));
    crdSchemas.set(key, check);
  }
  if (check(obj)) return [];
  return check.errors.map((e) => `${e.instancePath || "/"} ${e.message}`
    + (e.params?.additionalProperty ? ` '${e.params.additionalProperty}'` : "")
    + (e.params?.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : ""));
}

// ---------- built-in kinds ----------
const SCALARS = new Set(["string", "number", "boolean", "Date", "any", "IntOrString", "object"]);

function modelFor(apiVersion, kind) {
  const version = apiVersion.includes("/") ? apiVersion.split("/")[1] : apiVersion;
  return models[version.charAt(0).toUpperCase() + version.slice(1) + kind] || models["CoreV1" + kind];
}

function unknownFields(value, type, at, errors) {
  if (value === null || value === undefined || SCALARS.has(type)) return;
  let m;
  if ((m = type.match(/^Array<(.+)>$/))) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, m[1], `${at}/${i}`, errors));
    return;
  }
  if ((m = type.match(/^\{ \[key: string\]: (.+); \}$/))) {
    if (typeof value === "object") for (const [k, v] of Object.entries(value)) unknownFields(v, m[1], `${at}/${k}`, errors);
    return;
  }
  const model = models[type];
  if (!model || typeof value !== "object" || Array.isArray(value)) return;
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) errors.push(`${at || "/"} must NOT have additional property '${k}' (not in ${type})`);
    else unknownFields(v, fields.get(k), `${at}/${k}`, errors);
  }
}

async function validateBuiltIn(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  let Model;
  try {
    Model = (await import(`kubernetes-models/${group ? group + "/" : ""}${version}/${obj.kind}`))[obj.kind];
  } catch {
    return null;
  }
  if (obj.kind === "Secret" && obj.data) {
    // kustomize folds long base64 values over lines; Kubernetes' decoder skips the line breaks.
    obj = { ...obj, data: Object.fromEntries(Object.entries(obj.data).map(([k, v]) => [k, String(v).replace(/\s/g, "")])) };
  }
  const errors = [];
  try {
    new Model(obj).validate();
  } catch (e) {
    errors.push(...String(e.message).split("\n"));
  }
  const model = modelFor(obj.apiVersion, obj.kind);
  if (model) unknownFields(obj, model.name, "", errors);
  else errors.push(`no field list for ${obj.apiVersion} ${obj.kind}`);
  return errors;
}

// ---------- main ----------
const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
let valid = 0;
let invalid = 0;
let unchecked = 0;
for (const doc of parseAllDocuments(text)) {
  if (doc.errors.length) {
    console.log(`INVALID YAML: ${doc.errors[0].message}`);
    invalid++;
    continue;
  }
  const obj = doc.toJS();
  if (!obj) continue;
  const id = `${obj.apiVersion} ${obj.kind} ${obj.metadata?.namespace ? obj.metadata.namespace + "/" : ""}${obj.metadata?.name}`;
  const [group, version] = String(obj.apiVersion).includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const key = `${group}/${version}/${obj.kind}`;
  let errors;
  if (crdSchemas.has(key)) {
    errors = validateCustom(key, obj);
  } else if (WITHOUT_PUBLISHED_SCHEMA.has(key)) {
    console.log(`UNCHECKED ${id} (its CRD is not published where this build can fetch it)`);
    unchecked++;
    continue;
  } else {
    errors = await validateBuiltIn(obj);
    if (errors === null) errors = [`no schema known for ${obj.apiVersion} ${obj.kind}`];
  }
  if (errors.length) {
    invalid++;
    console.log(`INVALID ${id}`);
    for (const e of errors) console.log(`  - ${e}`);
  } else {
    valid++;
    console.log(`ok      ${id}`);
  }
}
console.log(`${valid} valid, ${invalid} invalid, ${unchecked} without a published schema`);
process.exit(invalid ? 1 : 0);
