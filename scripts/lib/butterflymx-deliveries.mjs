// ButterflyMX-shaped webhook bodies for the demo resident's panel, shared by `npm run simulate` and the console's
// developer panel.
import { DEMO } from "./demo-data.mjs";

/** Status commands and the raw ButterflyMX status each one sends. */
export const STATUS_COMMANDS = {
  answer: "connecting_sip",
  cancel: "canceled",
  decline: "rejected",
  missed: "timeout_online_signal",
  door: "opened_door",
  rollover: "voip_rollover",
};

/** The call object ButterflyMX sends, for `guid`, calling ButterflyMX user `user` (the demo resident's by default). */
export function callObject(guid, user = DEMO.call.user) {
  return { guid, ...DEMO.call, user };
}

/** A `status_update` body. */
export function statusUpdate(guid, status, user) {
  return { call: callObject(guid, user), status };
}
