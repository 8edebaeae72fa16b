// The one place that decides when a message goes to the DLQ, with which reason and attempt count.

/** A decision to dead-letter: the reason stored and the attempts recorded (deliveries a handler got). */
export interface DeadLetterVerdict {
  /** The reason stored with the dead letter. */
  readonly reason: string;
  /** The attempts stored with it: deliveries a handler actually got. */
  readonly attempts: number;
}

/** Settings the policy reads. `maxAttempts` is `Infinity` when dead-lettering is off. */
export interface DeadLetterSettings {
  /** Deliveries a handler may get before the message is dead-lettered. */
  readonly maxAttempts: number;
  /** Whether the subscription has a DLQ at all (false: retried forever). */
  readonly deadLetter: boolean;
}

/**
 * A delivery arriving after its last allowed attempt ended unsettled: the handler ran past the
 * lease, or the consumer stopped or crashed holding it. The arriving delivery is not handled, so it
 * is not counted.
 */
export function expiredBeforeDelivery(
  attempt: number,
  settings: DeadLetterSettings,
): DeadLetterVerdict | undefined {
  if (!settings.deadLetter || attempt <= settings.maxAttempts) return undefined;
  const handled = attempt - 1;
  return {
    attempts: handled,
    reason:
      `lease expired on attempt ${handled} of ${settings.maxAttempts}: the delivery was never settled ` +
      '(the handler outlived ackDeadlineMs, or the consumer stopped or crashed holding it)',
  };
}

/** The handler threw (or rejected) on `attempt`; dead-letters on the last one. */
export function afterHandlerFailure(
  attempt: number,
  error: unknown,
  settings: DeadLetterSettings,
): DeadLetterVerdict | undefined {
  if (!settings.deadLetter || attempt < settings.maxAttempts) return undefined;
  const description = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    attempts: attempt,
    reason: `handler failed on attempt ${attempt} of ${settings.maxAttempts}: ${description}`,
  };
}

/** The handler called `nack()` on `attempt`: on the last one there is no next attempt to give. */
export function afterExplicitNack(
  attempt: number,
  settings: DeadLetterSettings,
): DeadLetterVerdict | undefined {
  if (!settings.deadLetter || attempt < settings.maxAttempts) return undefined;
  return { attempts: attempt, reason: `nacked on attempt ${attempt} of ${settings.maxAttempts}` };
}
