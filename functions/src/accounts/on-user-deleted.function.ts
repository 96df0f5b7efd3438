import { region } from "firebase-functions/v1";
import { BUTTERFLYMX_CLIENT_SECRET, REGION } from "../config";
import { runtimeAccountDeps } from "./account-deps";
import { deleteUserData } from "./unlink-service";

/**
 * A deleted Firebase Auth user leaves nothing behind. The one 1st-gen function: firebase-functions 6 has no
 * 2nd-gen Auth delete trigger (7.4 adds `onUserDeleted` in firebase-functions/v2/identity; see docs/contract.md, "Account deletion").
 * Retried on failure (the work is idempotent): without retries, one failed attempt would leave the deleted user's
 * phones registered, ringing for calls nobody may receive.
 */
export const onUserDeleted = region(REGION)
  .runWith({ secrets: [BUTTERFLYMX_CLIENT_SECRET], timeoutSeconds: 300, failurePolicy: true })
  .auth.user()
  .onDelete(async (user) => {
    await deleteUserData(runtimeAccountDeps(), user.uid);
  });
