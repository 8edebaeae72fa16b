// How admitted messages reach the user: the contract between the consumer loop and its two modes.
import type { ReceivedEnvelope, SettleRequest } from '../message.js';

/**
 * One of the loop's two modes: push ({@link PushDispatch}, a handler runs per message) or pull
 * ({@link PullDispatch}, `consumer.messages()` takes them and the caller settles each).
 */
export interface Dispatch<T> {
  /** Handlers running now (always 0 in pull mode). */
  readonly running: number;
  /** Hands on an admitted, unsettled message, or holds it until it may go. */
  deliver(message: ReceivedEnvelope<T>): void;
  /** The loop is stopping: nothing more will be delivered to be taken. */
  stopTaking(): void;
  /**
   * Forgets every message held and not yet given to a handler or the caller, and returns them: no
   * handler saw them, so the loop releases them without using up an attempt.
   */
  withdrawUnstarted(): ReadonlySet<ReceivedEnvelope<T>>;
}

/** What push mode needs from the loop. */
export interface DispatchHost<T> {
  /** Settles on core's own initiative; a failure goes to `onError`, never to the caller. */
  settleQuietly(message: ReceivedEnvelope<T>, request: SettleRequest): void;
  /** A handler finished and its message was settled. */
  handlerFinished(): void;
}
