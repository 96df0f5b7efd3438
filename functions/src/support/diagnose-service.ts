import { CallReport, Check, runChecks } from "./diagnose-checks";
import { DiagnoseDeps, gatherFacts } from "./diagnose-facts";
import { DiagnoseInput } from "./diagnose-schemas";

export interface Diagnosis {
  uid: string;
  /** ISO 8601. */
  checkedAt: string;
  /** Every check, in a fixed order, whether it passed or not. */
  checks: Check[];
  /** The resident's latest calls and what happened on each device. */
  calls: CallReport[];
}

export const DEFAULT_CALLS = 10;

/**
 * "Why didn't my phone ring?" for one resident: each thing the troubleshooting guide has support check that this
 * backend can see (link, webhook, devices, tokens, APNs environment, Do Not Disturb, contact preference, recent
 * calls), with what was found and what to do. Reads only, here and at ButterflyMX (with the resident's own
 * sign-in); ButterflyMX being down makes its part "unknown", never a failure of the diagnosis.
 */
export async function diagnose(deps: DiagnoseDeps, uid: string, input: DiagnoseInput = {}): Promise<Diagnosis> {
  const facts = await gatherFacts(deps, uid, input.calls ?? DEFAULT_CALLS);
  return { uid, checkedAt: new Date(facts.now).toISOString(), ...runChecks(facts) };
}
