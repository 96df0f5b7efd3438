import { visitorImageUrl } from "../../src/calls/call-document";
import { parseCallEvent } from "../../src/butterflymx/call-events";
import { createBody, statusBody } from "../helpers/butterflymx-payloads";

/** The documented create body with the field at `path` (dot-separated) removed or replaced. */
function withField(path: string, value: unknown): Record<string, unknown> {
  const body = structuredClone(createBody({ guid: "7e342936-f47c-4814-ac4a-c56a0ef749a6" }));
  const keys = path.split(".");
  let target = body as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  if (value === undefined) delete target[last];
  else target[last] = value;
  return body;
}

function problems(body: unknown) {
  const result = parseCallEvent(body);
  if (result.ok) throw new Error("expected the body to be rejected");
  return result.problems;
}

describe("parseCallEvent: create", () => {
  it("accepts the partner guide's call object as a create event", () => {
    const result = parseCallEvent(createBody({ guid: "7e342936-f47c-4814-ac4a-c56a0ef749a6" }));
    expect(result).toMatchObject({
      ok: true,
      event: {
        kind: "create",
        bmxStatus: "initializing",
        call: { guid: "7e342936-f47c-4814-ac4a-c56a0ef749a6", user: { id: 3220259 }, unit: { label: "4B" } },
      },
    });
  });

  it("keeps unknown fields at every level", () => {
    const body = createBody({ image_url: "https://s3.example.com/a.jpg", panel_copy: { id: 1, nested: [1, 2] } });
    (body.panel as Record<string, unknown>).serial = "XYZ";
    (body.user as Record<string, unknown>).locale = "en";
    const result = parseCallEvent(body);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.event.call).toMatchObject({
      image_url: "https://s3.example.com/a.jpg",
      panel_copy: { id: 1, nested: [1, 2] },
      panel: { serial: "XYZ" },
      user: { locale: "en" },
    });
  });

  it("accepts string ids, a numeric unit label and null optional fields", () => {
    const result = parseCallEvent(
      createBody({ user: { id: "3220259", email: null, first_name: null }, unit: { id: "u-1", label: 303 }, provider: null }),
    );
    expect(result).toMatchObject({ ok: true, event: { call: { user: { id: "3220259" }, unit: { label: "303" } } } });
  });

  it.each([
    ["guid", "is required"],
    ["user", "is required"],
    ["user.id", "is required"],
    ["panel", "is required"],
    ["panel.id", "is required"],
    ["panel.name", "is required"],
    ["unit", "is required"],
    ["unit.id", "is required"],
    ["unit.label", "is required"],
  ])("names missing %s", (field, message) => {
    expect(problems(withField(field, undefined))).toEqual([{ field, message }]);
  });

  it.each([
    ["guid", "not-a-uuid", /UUID/],
    ["guid", 42, /UUID/],
    ["user.id", -1, /positive integer/],
    ["user.id", 1.5, /positive integer/],
    ["user.id", "../../etc", /positive integer or an id/],
    ["user.id", Number.MAX_SAFE_INTEGER + 2, /positive integer/],
    ["panel.id", {}, /positive integer/],
    ["panel.name", "", /must not be empty/],
    ["panel.name", "   ", /must not be empty/],
    ["panel.name", null, /expected string, received null/],
    ["panel.name", "x".repeat(201), /at most 200/],
    ["unit.label", "", /must not be empty/],
    ["unit.label", "x".repeat(65), /at most 64/],
    ["unit.label", ["4B"], /must be a string/],
    ["user", "3220259", /expected object/],
    ["user.email", 7, /expected string/],
    ["provider", { name: "twilio" }, /expected string/],
  ])("names invalid %s = %j", (field, value, message) => {
    const found = problems(withField(field, value));
    expect(found).toHaveLength(1);
    expect(found[0].field).toBe(field);
    expect(found[0].message).toMatch(message);
  });

  it("names every problem at once", () => {
    const body = { guid: "nope", user: {}, unit: { id: 1 } };
    expect(problems(body).map((p) => p.field)).toEqual(["guid", "user.id", "panel", "unit.label"]);
  });

  it.each([null, [], "call", 42, true])("rejects a body that is not an object: %j", (body) => {
    expect(problems(body)).toEqual([{ field: "(body)", message: "must be a JSON object" }]);
  });
});

describe("parseCallEvent: status_update", () => {
  it("accepts {call, status} and keeps the raw status", () => {
    const call = createBody();
    expect(parseCallEvent(statusBody(call, "canceled"))).toMatchObject({
      ok: true,
      event: { kind: "status_update", bmxStatus: "canceled", call: { guid: call.guid } },
    });
  });

  it("accepts unknown statuses (they end ringing later, never rejected)", () => {
    expect(parseCallEvent(statusBody(createBody(), "future_status.v2"))).toMatchObject({ ok: true, event: { bmxStatus: "future_status.v2" } });
  });

  it.each([
    [{ call: createBody() }, "status", "is required"],
    [{ call: createBody(), status: "" }, "status", "must be a status name"],
    [{ call: createBody(), status: "x".repeat(65) }, "status", "must be a status name"],
    [{ call: createBody(), status: "drop table" }, "status", "must be a status name"],
    [{ call: createBody(), status: 3 }, "status", "expected string"],
    [{ call: null, status: "canceled" }, "call", "expected object"],
    [{ call: { ...createBody(), guid: undefined }, status: "canceled" }, "call.guid", "is required"],
  ])("names the problem in %j", (body, field, message) => {
    const found = problems(body);
    expect(found).toHaveLength(1);
    expect(found[0].field).toBe(field);
    expect(found[0].message).toContain(message);
  });
});

describe("visitorImageUrl", () => {
  it("takes the first https URL among the known names", () => {
    const result = parseCallEvent(createBody({ thumb_url: "https://s3.example.com/t.jpg", image_url: "https://s3.example.com/i.jpg" }));
    if (!result.ok) throw new Error("valid");
    expect(visitorImageUrl(result.event.call)).toBe("https://s3.example.com/i.jpg");
  });

  it.each([{ image_url: "http://insecure.example.com/a.jpg" }, { image_url: "javascript:alert(1)" }, { image_url: 5 }, {}])(
    "ignores unusable values without rejecting the call: %j",
    (extra) => {
      const result = parseCallEvent(createBody(extra));
      if (!result.ok) throw new Error("valid");
      expect(visitorImageUrl(result.event.call)).toBeUndefined();
    },
  );
});
