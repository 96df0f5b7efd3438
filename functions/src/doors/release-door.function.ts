import { onCall } from "firebase-functions/v2/https";
import { BUTTERFLYMX_CLIENT_SECRET, REGION, USER_REQUESTS_PER_MINUTE } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { spendQuota } from "../shared/quota";
import { firestore } from "../shared/firebase";
import { runtimeDoorDeps } from "./door-deps";
import { releaseDoor as release } from "./door-release-service";
import { releaseDoorSchemaFor } from "./door-schemas";

/** Opens a door for the resident: the one a call came from, or an access point of their tenancy. Once per requestId. */
export const releaseDoor = onCall({ region: REGION, secrets: [BUTTERFLYMX_CLIENT_SECRET], timeoutSeconds: 60 }, async (request) => {
  const uid = requireUid(request.auth);
  const input = parseInput(releaseDoorSchemaFor(request.data), request.data);
  try {
    await spendQuota(firestore(), { uid, callable: "releaseDoor", perWindow: USER_REQUESTS_PER_MINUTE.value(), now: Date.now() });
    return await release(runtimeDoorDeps(), uid, input);
  } catch (error) {
    throw toHttpsError(error, { function: "releaseDoor", uid });
  }
});
