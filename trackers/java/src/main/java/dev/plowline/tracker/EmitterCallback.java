package dev.plowline.tracker;

import java.util.List;
import java.util.Map;

/**
 * Told about every delivery and every failure. Called on the emitter's thread (for {@link
 * Failure.Reason#QUEUE_FULL}, on the tracking thread); exceptions it throws are logged.
 */
public interface EmitterCallback {
  /** These events were accepted by the collector (a 2xx answer). */
  default void onSuccess(List<Map<String, String>> payloads) {}

  /** These events were not delivered. */
  default void onFailure(Failure failure) {}
}
