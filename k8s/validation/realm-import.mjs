#!/usr/bin/env node
// Writes k8s/base/keycloak-realm-import.yaml from keycloak/twin-realm.json, the one source of the
// realm: node k8s/validation/realm-import.mjs > k8s/base/keycloak-realm-import.yaml
// For a cluster it leaves out the demo users, turns off password grants (local convenience only),
// and takes the doppel-api client's secret from Secret doppel-oidc through an import placeholder.
// The test suite regenerates it and fails when the committed file is stale.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const realm = JSON.parse(fs.readFileSync(path.join(here, "../../keycloak/twin-realm.json"), "utf8"));
delete realm.users;
for (const client of realm.clients) {
  if (client.clientId === "doppel-api") client.secret = "${DOPPEL_API_CLIENT_SECRET}";
  if (client.clientId === "twin-app") {
    client.directAccessGrantsEnabled = false;
    // Exact URIs only, no wildcard: a wildcard lets any page under it (or, for a host wildcard, any
    // subdomain someone takes over) receive authorization codes. List each app's callback here.
    client.redirectUris = ["https://apps.doppel.example.com/callback"];
  }
  if (client.clientId === "doppel-console") {
    // The console signs in and out on its own page, twin-service's /console/ behind the ingress (ingress.yaml).
    client.redirectUris = ["https://twins.doppel.example.com/console/"];
    client.webOrigins = ["https://twins.doppel.example.com"];
    client.description = "The web console, twin-service's /console/: a public client, authorization code with PKCE (S256) only";
    client.attributes["post.logout.redirect.uris"] = "https://twins.doppel.example.com/console/";
  }
}
realm.sslRequired = "external";
const resource = {
  apiVersion: "k8s.keycloak.org/v2alpha1",
  kind: "KeycloakRealmImport",
  metadata: { name: "doppel-realm-twin" },
  spec: {
    keycloakCRName: "doppel-keycloak",
    placeholders: { DOPPEL_API_CLIENT_SECRET: { secret: { name: "doppel-oidc", key: "client-secret" } } },
    realm,
  },
};
process.stdout.write("# Generated from keycloak/twin-realm.json by k8s/validation/realm-import.mjs; do not edit.\n"
  + stringify(resource, { lineWidth: 0 }));
