// `npm run register-building -- --project <id> --building <id> [options]`: registers (or removes) a building-wide
// ButterflyMX webhook with an operator token, for partners who route calls by ButterflyMX user id / email.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./lib/emulator-env.mjs";
import { buildFunctions } from "./lib/functions-build.mjs";

const HELP = `Usage: npm run register-building -- --building <id> (--project <id> | --url <webhook URL>) [options]
  --building <id>          ButterflyMX building id
  --project <id>           Firebase project the backend is deployed to (webhook URL derived from it)
  --url <webhook URL>      the webhook's public URL instead (custom domain; no secret in it)
  --region na|eu           the building's ButterflyMX region (default na)
  --environment production|sandbox   (default production)
  --remove                 delete this backend's integrations on the building instead
Environment:
  BUTTERFLYMX_OPERATOR_TOKEN   a building admin's ButterflyMX access token (required)
  WEBHOOK_OPERATOR_SECRET      the deployed WEBHOOK_OPERATOR_SECRET value (required to register; 32 to 256 URL-safe characters: A-Z a-z 0-9 _ -)
  BUTTERFLYMX_API_ORIGIN       send the API calls elsewhere (a local ButterflyMX when testing)`;

const { values } = parseArgs({
  options: {
    building: { type: "string" },
    project: { type: "string" },
    url: { type: "string" },
    region: { type: "string", default: "na" },
    environment: { type: "string", default: "production" },
    remove: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const problems = [];
if (!values.building) problems.push("--building is required");
if (!values.project && !values.url) problems.push("--project or --url is required");
if (!["na", "eu"].includes(values.region)) problems.push(`--region must be na or eu, not "${values.region}"`);
if (!["production", "sandbox"].includes(values.environment)) problems.push(`--environment must be production or sandbox, not "${values.environment}"`);
const token = process.env.BUTTERFLYMX_OPERATOR_TOKEN;
if (!token) problems.push("BUTTERFLYMX_OPERATOR_TOKEN is not set");
const operatorSecret = process.env.WEBHOOK_OPERATOR_SECRET ?? "";
// Its shape (what the webhook accepts) is checked by registerBuilding before anything reaches ButterflyMX.
if (!values.remove && operatorSecret.length === 0) problems.push("WEBHOOK_OPERATOR_SECRET must be set to the deployed value");
if (problems.length > 0) {
  console.error(`${problems.join("\n")}\n\n${HELP}`);
  process.exit(2);
}

buildFunctions({ quiet: true });
const require = createRequire(import.meta.url);
const lib = (path) => require(join(ROOT, "functions", "lib", path));
const { ButterflyMxClient } = lib("butterflymx/butterflymx-client.js");
const { bmxEndpoints } = lib("butterflymx/butterflymx-hosts.js");
const { registerBuilding, unregisterBuilding } = lib("accounts/building-integration.js");
const { buildingWebhookRef } = lib("links/building-webhooks.js");
const { REGION } = lib("config.js");

const endpoints = bmxEndpoints(values.environment);
const apiOrigin = process.env.BUTTERFLYMX_API_ORIGIN;
const target = {
  // Operator tokens are used as-is (no OAuth client involved), so the client id and secret stay empty.
  bmx: new ButterflyMxClient({ endpoints: apiOrigin ? { ...endpoints, api: { na: apiOrigin, eu: apiOrigin } } : endpoints, clientId: "", clientSecret: "" }),
  region: values.region,
  buildingId: values.building,
  operatorToken: token,
  webhookBaseUrl: values.url ?? `https://${REGION}-${values.project}.cloudfunctions.net/butterflymxWebhook`,
};
try {
  if (values.remove) {
    const removed = await unregisterBuilding(target);
    console.log(`Removed ${removed} integration(s) of ${target.webhookBaseUrl} from building ${values.building}.`);
    await record((ref) => ref.delete());
  } else {
    const result = await registerBuilding(target, operatorSecret);
    console.log(`Building ${values.building}: integration ${result.integrationId} ${result.webhook}; ${result.removed} older one(s) removed.`);
    if (result.actions && !result.actions.includes("status_update")) {
      console.log("ButterflyMX bound it to `create` alone (v4 documents no `status_update`): calls through it ring, and each one ends by the ring timeout or reconciliation, not when it is answered elsewhere.");
    }
    const { Timestamp } = require("firebase-admin/firestore");
    await record((ref) =>
      ref.set({ integrationId: result.integrationId, ...(result.actions ? { actions: result.actions } : {}), webhookBaseUrl: target.webhookBaseUrl, registeredAt: Timestamp.now() }),
    );
  }
} catch (error) {
  console.error(`Failed: ${error.message}`);
  process.exit(1);
}

/**
 * Keeps what was registered in the project's Firestore (`buildingWebhooks`), for the building view: with --project
 * (Application Default Credentials), or the emulators' when FIRESTORE_EMULATOR_HOST is set. Best effort: the
 * registration at ButterflyMX is what counts, and it is done.
 */
async function record(write) {
  if (!values.project) return console.log("Not recorded in Firestore (no --project): `diagnose --building` will not know how ButterflyMX bound it.");
  try {
    process.env.METADATA_SERVER_DETECTION ??= "none";
    const { initializeApp } = require("firebase-admin/app");
    const { getFirestore } = require("firebase-admin/firestore");
    await write(buildingWebhookRef(getFirestore(initializeApp({ projectId: values.project })), values.building));
  } catch (error) {
    console.log(`Not recorded in Firestore (${error.message}): \`diagnose --building\` will not know how ButterflyMX bound it.`);
  }
}
