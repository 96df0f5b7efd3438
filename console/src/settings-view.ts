// Settings: preferences (`updatePreferences`), the link to ButterflyMX as `users/{uid}` shows it, and this user's
// devices (`users/{uid}/devices`, live) with a simulated registration, as an app registers on install.
import { collection, doc, onSnapshot } from "firebase/firestore";
import type { Backend } from "./backend";
import type { ContactPreference, Device, Profile } from "./contract";
import { announceOutcome, failed, h, onSubmit, problem, render, when } from "./dom";

export interface View {
  element: HTMLElement;
  stop(): void;
}

export function settingsView(backend: Backend, uid: string): View {
  const preferences = h("form", { class: "preferences", "aria-label": "Preferences", onsubmit: onSubmit(() => save()) });
  const link = h("section", { "aria-label": "ButterflyMX account" });
  const devices = h("section", { "aria-label": "My devices" });
  const register = registerForm(backend);
  const element = h("div", { class: "settings" }, h("h2", {}, "Preferences"), preferences, h("h2", {}, "ButterflyMX account"), link, h("h2", {}, "My devices"), devices, register);

  const dnd = h("input", { type: "checkbox", id: "dnd" });
  const contact = h("select", { id: "contact" }, h("option", { value: "mobile_app" }, "Ring the app (mobile_app)"), h("option", { value: "phone_call" }, "Call my phone instead (phone_call)"));
  const saved = h("output", { "data-testid": "preferences-result" });
  // Disabled until the stored preferences arrive, so that they never overwrite a choice being made.
  const fields = h(
    "fieldset",
    { disabled: true },
    h("legend", { class: "visually-hidden" }, "Preferences"),
    h("p", {}, dnd, h("label", { for: "dnd" }, " Do Not Disturb (no call rings any of my devices)")),
    h("p", {}, h("label", { for: "contact" }, "Contact preference "), contact),
    h("button", { type: "submit" }, "Save preferences"),
  );
  render(preferences, fields, " ", saved);

  async function save(): Promise<void> {
    try {
      const { data } = await backend.call.updatePreferences({ doNotDisturb: dnd.checked, contactPreference: contact.value as ContactPreference });
      saved.textContent = `Saved. ButterflyMX: ${data.butterflymx}.`;
    } catch (error) {
      saved.textContent = `Not saved: ${problem(error)}`;
    }
  }

  const stopProfile = onSnapshot(
    doc(backend.db, "users", uid),
    (snapshot) => {
      const profile = (snapshot.data() ?? {}) as Profile;
      dnd.checked = profile.preferences?.doNotDisturb ?? false;
      contact.value = profile.preferences?.contactPreference ?? "mobile_app";
      fields.disabled = false;
      const bmx = profile.butterflymx;
      render(
        link,
        bmx
          ? h(
              "p",
              { "data-testid": "link-state" },
              `Linked to ButterflyMX user ${bmx.userId} (${bmx.region ?? "na"}, ${bmx.environment ?? "production"}) since ${when(bmx.linkedAt)}: `,
              bmx.tenants.map((t) => `${t.unitLabel ?? t.id}, ${t.buildingName ?? "building"}${t.doorReleaseEnabled === false ? " (door release off)" : ""}`).join("; "),
            )
          : h("p", { "data-testid": "link-state" }, "Not linked to ButterflyMX: calls cannot reach this account. The app links through ButterflyMX's sign-in (linkButterflyMxAccount)."),
      );
    },
    failed("Profile"),
  );

  const stopDevices = onSnapshot(
    collection(backend.db, "users", uid, "devices"),
    (snapshot) => {
      const list = snapshot.docs.map((d) => d.data() as Device);
      render(
        devices,
        list.length === 0
          ? h("p", {}, "No device registered: calls cannot ring anywhere.")
          : h(
              "ul",
              { class: "devices" },
              ...list.map((device) =>
                h(
                  "li",
                  { "data-device": device.deviceId },
                  `${device.deviceId} · ${device.platform} · ${[device.fcmToken && "FCM", device.voipToken && `VoIP (${device.apnsEnvironment ?? "default"})`].filter(Boolean).join(" + ")} · updated ${when(device.updatedAt)} `,
                  h("button", { type: "button", "aria-label": `Unregister ${device.deviceId}`, onclick: () => void unregister(device.deviceId) }, "Unregister"),
                ),
              ),
            ),
      );
    },
    failed("Devices"),
  );

  const unregister = (deviceId: string) =>
    announceOutcome("Unregister", async () => {
      await backend.call.unregisterDevice({ deviceId });
      return `Unregistered ${deviceId}.`;
    });

  return {
    element,
    stop: () => {
      stopProfile();
      stopDevices();
    },
  };
}

/** Registers a device with made-up tokens, as an app would on install (its pushes land in the emulator's outbox). */
function registerForm(backend: Backend): HTMLElement {
  const platform = h("select", { id: "register-platform" }, h("option", { value: "android" }, "Android (FCM)"), h("option", { value: "ios" }, "iOS (VoIP + FCM)"));
  const send = () =>
    announceOutcome("Register", async () => {
      const id = crypto.randomUUID();
      const ios = platform.value === "ios";
      const fcmToken = `console-fcm-${id}`;
      const input = ios
        ? { deviceId: `console-ios-${id.slice(0, 8)}`, platform: "ios" as const, fcmToken, voipToken: hex(32), apnsEnvironment: "sandbox" as const, appVersion: "console" }
        : { deviceId: `console-android-${id.slice(0, 8)}`, platform: "android" as const, fcmToken, appVersion: "console" };
      await backend.call.registerDevice(input);
      return `Registered ${input.deviceId}.`;
    });
  return h(
    "form",
    { class: "action", onsubmit: onSubmit(send) },
    h("label", { for: "register-platform" }, "Register a simulated device "),
    platform,
    h("button", { type: "submit" }, "Register"),
  );
}

function hex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}
