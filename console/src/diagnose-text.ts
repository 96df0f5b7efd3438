// Words for what `diagnose` answers, kept free of the DOM so that they are unit-tested.

/**
 * The evidence as lines a person reads: one per field, lists and records spelled out
 * (`{devices: [{deviceId: "a", platform: "ios"}]}` → "devices: deviceId a, platform ios"). The JSON stays one click away.
 */
export function evidenceLines(evidence: Record<string, unknown>): string[] {
  const words = (value: unknown): string => {
    if (value === null || value === undefined) return "none";
    if (Array.isArray(value)) return value.length === 0 ? "none" : value.map(words).join("; ");
    if (typeof value === "object") return Object.entries(value).map(([key, inner]) => `${key} ${words(inner)}`).join(", ");
    return String(value);
  };
  return Object.entries(evidence).map(([key, value]) => `${key}: ${words(value)}`);
}
