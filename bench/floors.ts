// The two floors of bench/floor, started the same way by every benchmark that measures against them.
import { Firestore } from "firebase-admin/firestore";
import { REGION } from "../functions/src/config";
import { functionsOrigin, FUNCTIONS_PROJECT_ID } from "../functions/test/helpers/emulators";

/** Writes one floor call; the bare trigger then sends one FCM message to `token`. */
export async function writeFloor(db: Firestore, id: string, token: string): Promise<void> {
  await db.doc(`benchFloor/${id}`).create({ token });
}

/** The emulated URL of `benchFloorWebhook`. */
export async function floorWebhookUrl(): Promise<string> {
  return `${await functionsOrigin()}/${FUNCTIONS_PROJECT_ID}/${REGION}/benchFloorWebhook`;
}

/** POSTs one floor call to the bare webhook; its trigger then sends one FCM message to `token`. */
export async function postFloorWebhook(url: string, id: string, token: string): Promise<void> {
  const answer = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id, token }) });
  if (!answer.ok) throw new Error(`the bare webhook answered ${answer.status}`);
}
