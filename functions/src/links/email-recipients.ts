import type { Auth } from "firebase-admin/auth";
import { firestore } from "../shared/firebase";

/**
 * The app user whose verified email is this ButterflyMX user's email (building-wide mode). Unverified or disabled
 * accounts get nothing: anyone can sign up with someone else's address, and a ring shows the visitor's picture.
 */
export async function verifiedUidsForEmail(email: string, auth: Auth = defaultAuth()): Promise<string[]> {
  try {
    const user = await auth.getUserByEmail(email);
    return user.emailVerified && !user.disabled ? [user.uid] : [];
  } catch (error) {
    // No account has an address Firebase Auth refuses to look up: like an unknown address, nobody to ring.
    const code = (error as { code?: string }).code;
    if (code === "auth/user-not-found" || code === "auth/invalid-email") return [];
    throw error;
  }
}

// Loaded on the first building-wide event only: events through a resident's URL never pay for firebase-admin/auth.
function defaultAuth(): Auth {
  firestore(); // initialises the default app
  const { getAuth } = require("firebase-admin/auth") as typeof import("firebase-admin/auth");
  return getAuth();
}
