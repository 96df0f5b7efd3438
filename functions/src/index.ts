import { setGlobalOptions } from "firebase-functions/v2/options";
import { REGION } from "./config";

setGlobalOptions({ region: REGION, maxInstances: 20 });

/**
 * Every deployed function, each loading its own module on first read. A deployed instance serves one function
 * and its runtime reads only that export, so a cold start never loads the other functions' code (the ring
 * trigger does not load the OAuth client, the webhook does not load the push clients). Deploy discovery and
 * the emulator read every export, so every function is still declared.
 */
const deployed: Record<string, () => unknown> = {
  butterflymxWebhook: () => require("./webhook/butterflymx-webhook.function").butterflymxWebhook,
  onCallCreated: () => require("./calls/on-call-created.function").onCallCreated,
  onCallUpdated: () => require("./calls/on-call-updated.function").onCallUpdated,
  ringTimeout: () => require("./calls/ring-timeout.function").ringTimeout,
  registerDevice: () => require("./devices/register-device.function").registerDevice,
  unregisterDevice: () => require("./devices/unregister-device.function").unregisterDevice,
  signOut: () => require("./accounts/sign-out.function").signOut,
  linkButterflyMxAccount: () => require("./accounts/link-butterflymx-account.function").linkButterflyMxAccount,
  unlinkButterflyMxAccount: () => require("./accounts/unlink-butterflymx-account.function").unlinkButterflyMxAccount,
  updatePreferences: () => require("./accounts/update-preferences.function").updatePreferences,
  releaseDoor: () => require("./doors/release-door.function").releaseDoor,
  getCallHistory: () => require("./history/get-call-history.function").getCallHistory,
  getAccessHistory: () => require("./history/get-access-history.function").getAccessHistory,
  acknowledgeDelivery: () => require("./calls/acknowledge-delivery.function").acknowledgeDelivery,
  reconcileCalls: () => require("./calls/reconcile-calls.function").reconcileCalls,
  diagnose: () => require("./support/diagnose.function").diagnose,
  deliveryHealth: () => require("./health/delivery-health.function").deliveryHealth,
  onUserDeleted: () => require("./accounts/on-user-deleted.function").onUserDeleted,
};

for (const [name, load] of Object.entries(deployed)) {
  Object.defineProperty(exports, name, { enumerable: true, get: load });
}
