// Keeps the ledger of one soak scenario: what was sent, handled and dead-lettered, by sequence number.

/** A fault injected during a scenario, for the recovery time. */
export interface FaultMark {
  /** What was done (`SIGKILL consumer`, `CLIENT KILL`, …). */
  readonly what: string;
  /** `Date.now()` when the fault began. */
  readonly at: number;
  /**
   * When the fault itself was over: the broker accepted clients again, the connections were cut,
   * the process was dead, `stop()` resolved. Recovery is measured from here.
   */
  endedAt: number;
}

/** The counts a scenario reports; `lost` must be 0. */
export interface TallySummary {
  /** Distinct sequence numbers whose send resolved. */
  readonly sent: number;
  /** Distinct sequence numbers a handler completed successfully at least once. */
  readonly handled: number;
  /** Resolved, never handled, not dead-lettered, and not excused as {@link TallySummary.wiped}. */
  readonly lost: number;
  /**
   * Resolved before a restart of a broker that keeps nothing on disk, and never handled: gone with
   * the broker's memory, which no client can prevent. Counted apart from `lost`.
   */
  readonly wiped: number;
  /** The first few lost sequence numbers, to look for in the broker or the logs. */
  readonly lostSample: readonly number[];
  /** Sequence numbers handled successfully more than once. */
  readonly duplicated: number;
  /** Distinct sequence numbers found in the dead-letter queue. */
  readonly deadLettered: number;
  /**
   * Worst over the faults of: from the end of the fault (broker back, connections cut, process
   * dead, `stop()` resolved) until the first message whose send began after it was handled, so
   * both sides work again, end to end. `undefined` without faults.
   */
  readonly recoveryMs: number | undefined;
  /** Sends (or batches) that rejected and were sent again. */
  readonly sendErrors: number;
  /** Handler runs that threw on purpose (the failure scenario). */
  readonly injectedFailures: number;
}

/** The ledger of one scenario. Sequence numbers run from 0 to `messages - 1`. */
export class Tally {
  readonly messages: number;
  readonly faults: FaultMark[] = [];
  sendErrors = 0;
  injectedFailures = 0;
  // Per sequence number; NaN / 0 until it happens. Typed arrays keep 10,000+ entries cheap.
  private readonly sendStartedAt: Float64Array;
  private readonly sendResolvedAt: Float64Array;
  private readonly firstHandledAt: Float64Array;
  private readonly handledCount: Uint32Array;
  private readonly deadLetteredSeqs = new Set<number>();
  private resolved = 0;
  private handledDistinct = 0;
  /** Sends that resolved before this instant may have been wiped by a non-persistent restart. */
  private wipeCutoff: number | undefined;
  // The counts when the wipe happened: the backlog starts again from there.
  private resolvedAtWipe = 0;
  private handledAtWipe = 0;

  constructor(messages: number) {
    this.messages = messages;
    this.sendStartedAt = new Float64Array(messages).fill(Number.NaN);
    this.sendResolvedAt = new Float64Array(messages).fill(Number.NaN);
    this.firstHandledAt = new Float64Array(messages).fill(Number.NaN);
    this.handledCount = new Uint32Array(messages);
  }

  /** Distinct sequence numbers whose send resolved so far. */
  get sentCount(): number {
    return this.resolved;
  }

  /** Distinct sequence numbers handled so far. */
  get handledCountDistinct(): number {
    return this.handledDistinct;
  }

  /**
   * Resolved sends not handled yet, for the producer's flow control. Those a non-persistent
   * restart wiped will never be handled, so it counts from the wipe on.
   */
  get backlog(): number {
    return Math.max(
      0,
      this.resolved - this.resolvedAtWipe - (this.handledDistinct - this.handledAtWipe),
    );
  }

  sendStarted(seq: number, at = Date.now()): void {
    if (Number.isNaN(this.sendStartedAt[seq] ?? 0)) this.sendStartedAt[seq] = at;
  }

  sendResolved(seq: number, at = Date.now()): void {
    if (!Number.isNaN(this.sendResolvedAt[seq] ?? 0)) return;
    this.sendResolvedAt[seq] = at;
    this.resolved += 1;
  }

  /** A handler completed successfully for `seq`. Out-of-range numbers are ignored. */
  handled(seq: number, at = Date.now()): void {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.messages) return;
    const count = this.handledCount[seq] ?? 0;
    this.handledCount[seq] = count + 1;
    if (count === 0) {
      this.firstHandledAt[seq] = at;
      this.handledDistinct += 1;
    }
  }

  deadLettered(seq: number): void {
    if (Number.isInteger(seq) && seq >= 0 && seq < this.messages) this.deadLetteredSeqs.add(seq);
  }

  /** A fault begins; it ends at once unless {@link Tally.faultEnded} says when. */
  fault(what: string, at = Date.now()): void {
    this.faults.push({ what, at, endedAt: at });
  }

  /** The latest fault is over (see {@link FaultMark.endedAt}). */
  faultEnded(at = Date.now()): void {
    const fault = this.faults.at(-1);
    if (fault !== undefined) fault.endedAt = at;
  }

  /** Sends resolved before `at` went to a broker that kept them in memory only, then restarted. */
  wipedBefore(at: number): void {
    this.wipeCutoff = at;
    this.resolvedAtWipe = this.resolved;
    this.handledAtWipe = this.handledDistinct;
  }

  /** Whether every resolved send is handled or dead-lettered (apart from those a restart wiped). */
  complete(): boolean {
    for (let seq = 0; seq < this.messages; seq += 1) {
      if (this.outstanding(seq) === 'missing') return false;
    }
    return true;
  }

  private outstanding(seq: number): 'accounted' | 'missing' | 'wiped' | 'unsent' {
    const resolvedAt = this.sendResolvedAt[seq] ?? Number.NaN;
    if (Number.isNaN(resolvedAt)) return 'unsent';
    if ((this.handledCount[seq] ?? 0) > 0 || this.deadLetteredSeqs.has(seq)) return 'accounted';
    if (this.wipeCutoff !== undefined && resolvedAt < this.wipeCutoff) return 'wiped';
    return 'missing';
  }

  summary(): TallySummary {
    let lost = 0;
    let wiped = 0;
    let duplicated = 0;
    const lostSample: number[] = [];
    for (let seq = 0; seq < this.messages; seq += 1) {
      const state = this.outstanding(seq);
      if (state === 'missing') {
        lost += 1;
        if (lostSample.length < 10) lostSample.push(seq);
      }
      if (state === 'wiped') wiped += 1;
      if ((this.handledCount[seq] ?? 0) > 1) duplicated += 1;
    }
    return {
      sent: this.resolved,
      handled: this.handledDistinct,
      lost,
      lostSample,
      wiped,
      duplicated,
      deadLettered: this.deadLetteredSeqs.size,
      recoveryMs: this.recoveryMs(),
      sendErrors: this.sendErrors,
      injectedFailures: this.injectedFailures,
    };
  }

  private recoveryMs(): number | undefined {
    let worst: number | undefined;
    for (const fault of this.faults) {
      let first = Number.POSITIVE_INFINITY;
      for (let seq = 0; seq < this.messages; seq += 1) {
        const started = this.sendStartedAt[seq] ?? Number.NaN;
        const handledAt = this.firstHandledAt[seq] ?? Number.NaN;
        if (started >= fault.endedAt && handledAt < first) first = handledAt;
      }
      const recovery = Number.isFinite(first) ? first - fault.endedAt : Number.POSITIVE_INFINITY;
      worst = worst === undefined ? recovery : Math.max(worst, recovery);
    }
    return worst;
  }
}
