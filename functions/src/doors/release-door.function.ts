import { onCall } from "firebase-functions/v2/https";
import { BUTTERFLYMX_CLIENT_SECRET, REGION } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { runtimeDoorDeps } from "./door-deps";
import { releaseDoor as release } from "./door-release-service";
import { releaseDoorSchemaFor } from "./door-schemas";

/** Opens a door for the resident: the one a call came from, or an access point of their tenancy. Once per requestId. */
export const releaseDoor = onCall({ region: REGION, secrets: [BUTTERFLYMX_CLIENT_SECRET], timeoutSeconds: 60 }, async (request) => {
  const uid = requireUid(request.auth);
  const input = parseInput(releaseDoorSchemaFor(request.data), request.data);
  try {
    return await release(runtimeDoorDeps(), uid, input);
  } catch (error) {
    throw toHttpsError(error, { function: "releaseDoor", uid });
  }
});
