import type { BmxCallLogEntry, BmxSession, ButterflyMxClient } from "./butterflymx-client";

/**
 * Reads a user's v3 call log page after page, newest first, as its `links.next` says, up to `maxPages`. A page
 * that holds nothing the earlier pages did not (ButterflyMX answering the same page again), or a link already
 * followed, ends the read: `complete` then stays false, as it does when the cap is reached.
 */
export class CallLogReader {
  private next: string | undefined;
  private readonly followed = new Set<string>();
  private readonly seen = new Set<string>();
  private pages = 0;
  private ended = false;
  /** The log was read to its last page. */
  complete = false;

  constructor(
    private readonly bmx: ButterflyMxClient,
    private readonly session: BmxSession,
    private readonly options: { maxPages: number },
  ) {}

  /** The next page's calls, or undefined when the read is over. */
  async page(): Promise<BmxCallLogEntry[] | undefined> {
    if (this.ended || this.pages === this.options.maxPages) return undefined;
    const { calls, next } = await this.bmx.callLog(this.session, this.next);
    this.pages++;
    const repeated = calls.length > 0 && calls.every((call) => this.seen.has(call.id));
    if (repeated) {
      this.ended = true;
      return undefined;
    }
    for (const call of calls) this.seen.add(call.id);
    if (!next) {
      this.ended = true;
      this.complete = true;
    } else if (this.followed.has(next)) {
      this.ended = true;
    } else {
      this.followed.add(next);
      this.next = next;
    }
    return calls;
  }
}
