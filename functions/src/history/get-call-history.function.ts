import { onCall } from "firebase-functions/v2/https";
import { BUTTERFLYMX_CLIENT_SECRET, REGION, USER_REQUESTS_PER_MINUTE } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { spendQuota } from "../shared/quota";
import { firestore } from "../shared/firebase";
import { callHistory } from "./call-history-service";
import { runtimeHistoryDeps } from "./history-deps";
import { historyQuerySchema } from "./history-schemas";

/** The resident's calls, newest first: ours merged with ButterflyMX's call log, a page at a time. */
export const getCallHistory = onCall({ region: REGION, secrets: [BUTTERFLYMX_CLIENT_SECRET], timeoutSeconds: 60 }, async (request) => {
  const uid = requireUid(request.auth);
  const query = parseInput(historyQuerySchema, request.data);
  try {
    await spendQuota(firestore(), { uid, callable: "getCallHistory", perWindow: USER_REQUESTS_PER_MINUTE.value(), now: Date.now() });
    return await callHistory(runtimeHistoryDeps(), uid, query);
  } catch (error) {
    throw toHttpsError(error, { function: "getCallHistory", uid });
  }
});
