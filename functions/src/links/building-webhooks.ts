import { DocumentReference, Firestore, Timestamp } from "firebase-admin/firestore";

/**
 * `buildingWebhooks/{buildingId}`: the building-wide integration `register-building` left at ButterflyMX, server
 * only: its id, the call actions ButterflyMX bound it to, and the webhook's base URL (never the operator secret in
 * it). Written by the command when it can reach the project's Firestore; read by the building view.
 */
export const BUILDING_WEBHOOKS = "buildingWebhooks";

export interface BuildingWebhook {
  integrationId: string;
  /** `create` alone when ButterflyMX refused `status_update`; absent when it did not say. */
  actions?: string[];
  webhookBaseUrl: string;
  registeredAt: Timestamp;
}

export function buildingWebhookRef(db: Firestore, buildingId: string): DocumentReference {
  return db.collection(BUILDING_WEBHOOKS).doc(buildingId);
}
