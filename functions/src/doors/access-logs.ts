/**
 * `accessLogs/{id}`: door release requests and their results, linked to a call when there is one; readable by
 * the resident they belong to (`uid`). Removed with a deleted user.
 */
export const ACCESS_LOGS = "accessLogs";
