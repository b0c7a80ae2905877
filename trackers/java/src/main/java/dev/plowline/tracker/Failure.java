package dev.plowline.tracker;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Events that were not delivered, and why. With {@code willRetry} they are still queued and go
 * out later; otherwise the tracker has let go of them.
 *
 * @param reason what happened
 * @param payloads the events' wire parameters (each has its {@code eid})
 * @param status the HTTP status, when there was an answer
 * @param willRetry whether the events stay queued
 * @param message a readable explanation
 */
public record Failure(
    Reason reason, List<Map<String, String>> payloads, OptionalInt status, boolean willRetry,
    String message) {

  /** Why events were not delivered. */
  public enum Reason {
    /** The collector answered with a status the retry policy gives up on. */
    REJECTED,
    /** Every attempt of this send cycle failed; the events stay queued. */
    RETRIES_EXHAUSTED,
    /** One event alone is larger than the POST byte limit; it is never sent. */
    OVERSIZED,
    /** The queue was full: the oldest unsent event made room (or, if so configured, the new one was refused). */
    QUEUE_FULL,
    /** The emitter closed before the events were sent and its store does not keep them. */
    CLOSED
  }

  public Failure {
    payloads = List.copyOf(payloads);
  }
}
