// "Why didn't it ring?": the `diagnose` checklist of the signed-in resident.
import type { Backend } from "./backend";
import { evidenceLines } from "./diagnose-text";
import { h, problem, render, when } from "./dom";

export function diagnoseView(backend: Backend): HTMLElement {
  const result = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "button", onclick: () => void run() }, "Check my setup");
  async function run(): Promise<void> {
    button.disabled = true;
    render(result, h("p", {}, "Checking…"));
    try {
      const { data } = await backend.call.diagnose({});
      render(
        result,
        h("p", {}, `Checked ${when(data.checkedAt)}.`),
        h(
          "ul",
          { class: "checks" },
          ...data.checks.map((check) =>
            h(
              "li",
              { "data-check": check.id, "data-ok": String(check.ok) },
              h("strong", {}, `${check.ok ? "✔" : "✘"} ${check.id}`),
              h("span", { class: "visually-hidden" }, check.ok ? " passes" : " fails"),
              h("p", {}, check.summary),
              h("ul", { class: "evidence", "aria-label": `Evidence for ${check.id}` }, ...evidenceLines(check.evidence).map((line) => h("li", {}, line))),
              h("details", {}, h("summary", {}, "Evidence as JSON"), h("pre", {}, JSON.stringify(check.evidence, null, 2))),
              !check.ok && check.advice ? h("p", { class: "advice" }, `→ ${check.advice}`) : null,
            ),
          ),
        ),
      );
    } catch (error) {
      render(result, h("p", { role: "alert" }, `Could not check: ${problem(error)}`));
    } finally {
      button.disabled = false;
    }
  }
  return h("div", { class: "diagnose" }, h("h2", {}, "Why didn't my phone ring?"), h("p", {}, "Every check the backend can make from its data and ButterflyMX's, with the evidence and what to do."), button, result);
}
