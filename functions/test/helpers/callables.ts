import { REGION } from "../../src/config";
import { emulatorHost, functionsOrigin, FUNCTIONS_PROJECT_ID } from "./emulators";

/** A user in the Auth emulator, with an ID token for calling functions as them. */
export async function signUp(email: string): Promise<{ uid: string; idToken: string }> {
  const host = emulatorHost("FIREBASE_AUTH_EMULATOR_HOST");
  const response = await fetch(`http://${host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=emulator-api-key`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "test-password", returnSecureToken: true }),
  });
  const body = (await response.json()) as { localId: string; idToken: string };
  if (!response.ok) throw new Error(`Auth emulator signUp failed: ${JSON.stringify(body)}`);
  return { uid: body.localId, idToken: body.idToken };
}

/** Calls a callable function over its HTTP protocol (`{data}` in, `{result}` or `{error}` out). */
export async function callFunction(name: string, data: unknown, idToken?: string): Promise<{ status: number; body: { result?: unknown; error?: { status: string; message: string; details?: unknown } } }> {
  const response = await fetch(`${await functionsOrigin()}/${FUNCTIONS_PROJECT_ID}/${REGION}/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(idToken ? { authorization: `Bearer ${idToken}` } : {}) },
    body: JSON.stringify({ data }),
  });
  return { status: response.status, body: (await response.json()) as never };
}
