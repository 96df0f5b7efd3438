import { onCall } from "firebase-functions/v2/https";
import { runtimeButterflyMx } from "../butterflymx/runtime-client";
import { BUTTERFLYMX_CLIENT_SECRET, REGION, USER_REQUESTS_PER_MINUTE } from "../config";
import { firestore } from "../shared/firebase";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { spendQuota } from "../shared/quota";
import { diagnose as diagnoseResident } from "./diagnose-service";
import { diagnoseInputSchema } from "./diagnose-schemas";

/** The signed-in resident's own checklist: why their phone did or did not ring. Support uses `npm run diagnose`. */
export const diagnose = onCall({ region: REGION, secrets: [BUTTERFLYMX_CLIENT_SECRET], timeoutSeconds: 60 }, async (request) => {
  const uid = requireUid(request.auth);
  const input = parseInput(diagnoseInputSchema, request.data ?? {});
  try {
    await spendQuota(firestore(), { uid, callable: "diagnose", perWindow: USER_REQUESTS_PER_MINUTE.value(), now: Date.now() });
    return await diagnoseResident({ db: firestore(), bmx: runtimeButterflyMx().bmx, now: Date.now }, uid, input);
  } catch (error) {
    throw toHttpsError(error, { function: "diagnose", uid });
  }
});
