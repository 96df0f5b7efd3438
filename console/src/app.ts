// The console's shell: sign-in, then four screens over one signed-in user. Each screen starts its listeners
// when the user signs in and stops them on sign-out, as an app must (a listener left running after sign-out
// fails on the rules).
import { createUserWithEmailAndPassword, onAuthStateChanged, signInWithEmailAndPassword, signOut, type User } from "firebase/auth";
import type { Backend } from "./backend";
import { callsView, type CallsView } from "./calls-view";
import { diagnoseView } from "./diagnose-view";
import { clearStatus, failed, h, onSubmit, problem, render } from "./dom";
import { historyView } from "./history-view";
import { settingsView } from "./settings-view";

export interface ConsoleOptions {
  backend: Backend;
  /** Where the console runs, shown in the header ("emulators", or the project id). */
  environment: string;
  /** Prefilled sign-in (the demo resident on the emulators). */
  signIn?: { email: string; password: string };
  /** Offer "Create account" (emulator builds: a deployed console leaves sign-up to the partner's app). */
  allowSignUp?: boolean;
  /** Extra panel under the screens (the developer panel, emulator builds only). */
  developerPanel?: (user: User, calls: CallsView) => { element: HTMLElement; stop(): void };
}

const SCREENS = ["Calls", "History", "Settings", "Why didn't it ring?"] as const;

export function startConsole(root: HTMLElement, options: ConsoleOptions): void {
  const main = h("main", { id: "main" });
  const header = h("header", {}, h("h1", {}, "intercom-relay console"), h("span", { class: "environment" }, options.environment));
  // The live status line sits under the header, above the screens and the developer panel, where it is seen.
  const status = h("p", { id: "status", role: "status", "aria-live": "polite" });
  render(root, header, status, main);
  let stopSession: (() => void) | undefined;
  const end = (): void => {
    stopSession?.();
    stopSession = undefined;
    // What was said about the last user's calls is not for the sign-in screen, nor what is still on its way.
    clearStatus();
  };
  // Listeners stop before the sign-out: once signed out, the rules refuse them and they would report errors.
  const leave = (): void => {
    end();
    signOut(options.backend.auth).catch(failed("Sign out"));
  };
  onAuthStateChanged(options.backend.auth, (user) => {
    end();
    if (user) stopSession = signedIn(main, header, user, options, leave);
    else signInForm(main, options);
  });
}

function signInForm(main: HTMLElement, { backend, signIn, allowSignUp }: ConsoleOptions): void {
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true, value: signIn?.email });
  const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true, minlength: 6, value: signIn?.password });
  const error = h("p", { role: "alert", class: "error" });
  const attempt = async (create: boolean): Promise<void> => {
    error.textContent = "";
    try {
      if (create) await createUserWithEmailAndPassword(backend.auth, email.value, password.value);
      else await signInWithEmailAndPassword(backend.auth, email.value, password.value);
    } catch (caught) {
      error.textContent = problem(caught);
    }
  };
  render(
    main,
    h(
      "form",
      { class: "sign-in", "aria-label": "Sign in", onsubmit: onSubmit(() => attempt(false)) },
      h("h2", {}, "Sign in"),
      h("p", {}, h("label", { for: "email" }, "Email"), email),
      h("p", {}, h("label", { for: "password" }, "Password"), password),
      h("button", { type: "submit" }, "Sign in"),
      " ",
      allowSignUp ? h("button", { type: "button", onclick: () => void attempt(true) }, "Create account") : null,
      error,
    ),
  );
}

/** The signed-in screens; returns what stops them. */
function signedIn(main: HTMLElement, header: HTMLElement, user: User, options: ConsoleOptions, leave: () => void): () => void {
  const { backend } = options;
  const calls = callsView(backend, user.uid);
  const settings = settingsView(backend, user.uid);
  const history = historyView(backend);
  const panels: HTMLElement[] = [calls.element, history.element, settings.element, diagnoseView(backend)];
  const tabs = SCREENS.map((name, index) =>
    h("button", { type: "button", role: "tab", id: `tab-${index}`, "aria-controls": `screen-${index}`, onclick: () => show(index), onkeydown: (e: Event) => arrows(e as KeyboardEvent, index) }, name),
  );
  const screens = panels.map((panel, index) => h("section", { role: "tabpanel", id: `screen-${index}`, "aria-labelledby": `tab-${index}` }, panel));
  function show(index: number): void {
    tabs.forEach((tab, i) => {
      tab.setAttribute("aria-selected", String(i === index));
      tab.tabIndex = i === index ? 0 : -1; // one tab stop for the tab list; arrows move within it
    });
    screens.forEach((screen, i) => (screen.hidden = i !== index));
    if (SCREENS[index] === "History") history.refresh();
  }
  function arrows(event: KeyboardEvent, index: number): void {
    const last = SCREENS.length - 1;
    const next = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    show(next);
    tabs[next].focus();
  }
  const developer = options.developerPanel?.(user, calls);
  const account = h(
    "span",
    { class: "account" },
    `${user.email ?? user.uid} `,
    h("button", { type: "button", onclick: leave }, "Sign out"),
  );
  header.append(account);
  render(main, h("nav", { role: "tablist", "aria-label": "Screens" }, ...tabs), ...screens, developer?.element);
  show(0);
  return () => {
    calls.stop();
    settings.stop();
    developer?.stop();
    account.remove();
  };
}
