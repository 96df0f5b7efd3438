import { App, deleteApp, initializeApp } from "firebase-admin/app";
import { Firestore, getFirestore } from "firebase-admin/firestore";

/** The project the emulated functions serve; e2e tests write here so that the functions see their data. */
export const FUNCTIONS_PROJECT_ID = process.env.GCLOUD_PROJECT ?? "demo-intercom-relay-test";

/**
 * A project id of a test file's own: the functions emulator only watches its own project, so integration
 * tests written elsewhere fire no triggers, and files running in parallel never clear each other's data.
 */
export function isolatedProjectId(testFile: string): string {
  const name = testFile.replace(/^.*[\\/]/, "").replace(/\.test\.ts$/, "").replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  return `demo-ir-${name}`.slice(0, 30).replace(/-+$/, "");
}

export function emulatorHost(variable: "FIRESTORE_EMULATOR_HOST" | "FIREBASE_AUTH_EMULATOR_HOST" | "FIREBASE_EMULATOR_HUB"): string {
  const host = process.env[variable];
  if (!host) throw new Error(`${variable} is not set: run the emulator suites through \`npm test\`.`);
  return host;
}

/**
 * The port of a local fake the emulated functions are pointed at (`PUSH_*_ORIGIN`, `BUTTERFLYMX_*_ORIGIN`, set
 * by `npm test` and `npm run bench` for both the emulators and the test process).
 */
export function fakePort(variable: string): number {
  const origin = process.env[variable];
  if (!origin) throw new Error(`${variable} is not set: run the suites through \`npm test\` (or \`npm run bench\`), which points the functions at the fakes.`);
  return Number(new URL(origin).port);
}

let appCount = 0;

export interface TestFirestore {
  app: App;
  db: Firestore;
  projectId: string;
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Admin Firestore on the emulator for one project, with a way to wipe it between tests. */
export function testFirestore(projectId: string): TestFirestore {
  const app = initializeApp({ projectId }, `test-${projectId}-${appCount++}`);
  const db = getFirestore(app);
  return {
    app,
    db,
    projectId,
    clear: () => clearFirestore(projectId),
    close: () => deleteApp(app),
  };
}

export async function clearFirestore(projectId: string): Promise<void> {
  const host = emulatorHost("FIRESTORE_EMULATOR_HOST");
  const response = await fetch(`http://${host}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: "DELETE" });
  if (!response.ok) throw new Error(`Clearing Firestore emulator project ${projectId} failed: HTTP ${response.status}`);
}

/**
 * Every document path in the database, sorted: compare before/after to prove a request wrote nothing. One query over
 * every collection at every depth (kindless, all descendants), which the emulator answers to its owner.
 */
export async function allDocumentPaths(db: Firestore): Promise<string[]> {
  return Object.keys(await allDocumentVersions(db)).sort();
}

/** Every document's path with its update time, from the same one query: what changed, without reading any data. */
export async function allDocumentVersions(db: Firestore): Promise<Record<string, string>> {
  // The client's project: a getter its type declarations leave out.
  const root = `projects/${(db as unknown as { projectId: string }).projectId}/databases/(default)/documents`;
  const response = await fetch(`http://${emulatorHost("FIRESTORE_EMULATOR_HOST")}/v1/${root}:runQuery`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer owner" },
    body: JSON.stringify({ structuredQuery: { from: [{ allDescendants: true }], select: { fields: [{ fieldPath: "__name__" }] } } }),
  });
  if (!response.ok) throw new Error(`Listing every document of ${root} failed: HTTP ${response.status} ${await response.text()}`);
  const rows = (await response.json()) as Array<{ document?: { name: string; updateTime: string } }>;
  return Object.fromEntries(rows.flatMap((row) => (row.document ? [[row.document.name.slice(root.length + 1), row.document.updateTime]] : [])));
}

/** Every document with its data, for before/after comparisons that must also see updates. */
export async function snapshotDatabase(db: Firestore): Promise<Record<string, unknown>> {
  const paths = await allDocumentPaths(db);
  const snapshots = paths.length > 0 ? await db.getAll(...paths.map((path) => db.doc(path))) : [];
  return Object.fromEntries(snapshots.map((snapshot) => [snapshot.ref.path, snapshot.data()]));
}

/** Origin of the functions emulator, from the emulator hub (ports differ between `npm start` and `npm test`). */
export async function functionsOrigin(): Promise<string> {
  const response = await fetch(`http://${emulatorHost("FIREBASE_EMULATOR_HUB")}/emulators`);
  const emulators = (await response.json()) as Record<string, { host: string; port: number }>;
  const functions = emulators.functions;
  if (!functions) throw new Error("The functions emulator is not running (start the suites with `npm test`).");
  return `http://${functions.host}:${functions.port}`;
}

/** Polls until `probe` returns a value (not undefined), or fails after the deadline. Never a fixed sleep. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
