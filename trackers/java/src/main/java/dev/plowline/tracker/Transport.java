package dev.plowline.tracker;

import java.io.IOException;
import java.net.URI;
import java.util.Map;

/**
 * How a request reaches the collector. The default, {@link JdkHttpTransport}, uses {@code
 * java.net.http}; on Android, implement this over OkHttp or {@code HttpURLConnection}.
 */
@FunctionalInterface
public interface Transport {
  /**
   * Sends one request and returns the answer; throws {@link IOException} when there is no answer
   * (refused or dropped connection, timeout), which counts as a retryable failure.
   */
  Response send(Request request) throws IOException, InterruptedException;

  /**
   * One HTTP request.
   *
   * @param method GET or POST
   * @param uri the full URI (with the querystring for GET)
   * @param headers request headers
   * @param body the POST body, or null (not copied: transports must not change it)
   */
  @SuppressWarnings("ArrayRecordComponent") // a body is built per attempt and only read
  record Request(String method, URI uri, Map<String, String> headers, byte[] body) {
    public Request {
      headers = Map.copyOf(headers);
    }
  }

  /**
   * The collector's answer.
   *
   * @param status HTTP status
   * @param retryAfter the Retry-After header, or null
   */
  record Response(int status, String retryAfter) {}
}
