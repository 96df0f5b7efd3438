import { setGlobalOptions } from "firebase-functions/v2/options";
import { REGION } from "./config";

setGlobalOptions({ region: REGION, maxInstances: 20 });

export { butterflymxWebhook } from "./webhook/butterflymx-webhook.function";
export { onCallCreated } from "./calls/on-call-created.function";
export { onCallUpdated } from "./calls/on-call-updated.function";
export { registerDevice } from "./accounts/register-device.function";
export { unregisterDevice } from "./accounts/unregister-device.function";
export { signOut } from "./accounts/sign-out.function";
export { linkButterflyMxAccount } from "./accounts/link-butterflymx-account.function";
export { unlinkButterflyMxAccount } from "./accounts/unlink-butterflymx-account.function";
export { onUserDeleted } from "./accounts/on-user-deleted.function";
