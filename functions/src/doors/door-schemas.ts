import { z } from "zod";

/** An idempotency key the app makes per tap (a UUID fits): the same key gets the same answer, once. */
const requestId = z.string().regex(/^[A-Za-z0-9_-]{8,128}$/, "must be 8 to 128 letters, digits, _ or - (a UUID per door release request)");
const bmxRef = (what: string) => z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, `must be a ButterflyMX ${what} id`);

/** `releaseDoor` for a call the caller received: the door the visitor called from. */
export const callDoorSchema = z
  .object({ requestId, callGuid: z.guid("must be the call's guid").transform((guid) => guid.toLowerCase()) }, "must be an object")
  .strict();

/** `releaseDoor` for an access point of one of the caller's tenancies. */
export const accessPointDoorSchema = z.object({ requestId, tenantId: bmxRef("tenant"), accessPointId: bmxRef("access point") }, "must be an object").strict();

export type ReleaseDoorInput = z.infer<typeof callDoorSchema> | z.infer<typeof accessPointDoorSchema>;

/** The schema of the form the caller chose: with `callGuid`, a call's door; otherwise an access point. */
export function releaseDoorSchemaFor(data: unknown): typeof callDoorSchema | typeof accessPointDoorSchema {
  return typeof data === "object" && data !== null && "callGuid" in data ? callDoorSchema : accessPointDoorSchema;
}
