// The Firebase handles a client needs: Auth, Firestore and the callables, nothing server-side.
import { type FirebaseOptions, initializeApp } from "firebase/app";
import { type Auth, connectAuthEmulator, getAuth } from "firebase/auth";
import { connectFirestoreEmulator, type Firestore, getFirestore } from "firebase/firestore";
import { connectFunctionsEmulator, getFunctions } from "firebase/functions";
import { type Callables, callables, REGION } from "./contract";

export interface Backend {
  auth: Auth;
  db: Firestore;
  call: Callables;
}

/** Where the emulators listen, when the console runs on them (`npm start`). */
export interface EmulatorHosts {
  auth: string; // "http://127.0.0.1:9199"
  firestore: { host: string; port: number };
  functions: { host: string; port: number };
}

export function connectBackend(options: FirebaseOptions, emulators?: EmulatorHosts): Backend {
  const app = initializeApp(options);
  const auth = getAuth(app);
  const db = getFirestore(app);
  const functions = getFunctions(app, REGION);
  if (emulators) {
    connectAuthEmulator(auth, emulators.auth, { disableWarnings: true });
    connectFirestoreEmulator(db, emulators.firestore.host, emulators.firestore.port);
    connectFunctionsEmulator(functions, emulators.functions.host, emulators.functions.port);
  }
  return { auth, db, call: callables(functions) };
}
