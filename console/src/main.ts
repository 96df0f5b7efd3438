// Entry of the deployed console: Firebase Hosting serves the project's web config at /__/firebase/init.json, so
// one build serves any project it is deployed to. No emulator, no developer panel.
import type { FirebaseOptions } from "firebase/app";
import { startConsole } from "./app";
import { connectBackend } from "./backend";

const root = document.getElementById("app") as HTMLElement;
fetch("/__/firebase/init.json")
  .then(async (response) => {
    if (!response.ok) throw new Error(`/__/firebase/init.json answered HTTP ${response.status}`);
    const options = (await response.json()) as FirebaseOptions;
    startConsole(root, { backend: connectBackend(options), environment: options.projectId ?? "" });
  })
  .catch((error: unknown) => {
    root.textContent = `This console needs Firebase Hosting's project configuration: ${String(error)}`;
  });
