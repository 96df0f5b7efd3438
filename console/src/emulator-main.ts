// Entry of the console on the emulators (`npm start`): the emulators' addresses and the demo resident are
// baked in by `build.mjs`, and the developer panel is added.
import { startConsole } from "./app";
import { connectBackend, type EmulatorHosts } from "./backend";
import { developerPanel } from "./dev-panel";

declare const CONSOLE_EMULATORS: EmulatorHosts & {
  projectId: string;
  devPanelOrigin: string;
  demo: { email: string; password: string };
};

const settings = CONSOLE_EMULATORS;
// Any API key works against the Auth emulator; a demo project has no real one.
const backend = connectBackend({ projectId: settings.projectId, apiKey: "demo-api-key", authDomain: `${settings.projectId}.firebaseapp.com` }, settings);
startConsole(document.getElementById("app") as HTMLElement, {
  backend,
  environment: `emulators · ${settings.projectId}`,
  signIn: settings.demo,
  allowSignUp: true,
  developerPanel: developerPanel(settings.devPanelOrigin),
});
