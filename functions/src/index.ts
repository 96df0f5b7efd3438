import { setGlobalOptions } from "firebase-functions/v2/options";
import { REGION } from "./config";

setGlobalOptions({ region: REGION, maxInstances: 20 });

export { butterflymxWebhook } from "./webhook/butterflymx-webhook.function";
