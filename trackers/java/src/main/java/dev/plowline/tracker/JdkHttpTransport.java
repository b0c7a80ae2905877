package dev.plowline.tracker;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * {@link Transport} over {@code java.net.http.HttpClient} (whose threads are daemon threads).
 *
 * <p>It speaks HTTP/1.1: the JDK client's default, HTTP/2, asks a plain-http server to upgrade
 * with {@code Upgrade: h2c}, which collectors do not expect (a POST body can then go missing).
 */
public final class JdkHttpTransport implements Transport {
  private final HttpClient client;
  private final Duration requestTimeout;

  /** A transport giving up on an exchange after {@code requestTimeout}. */
  public JdkHttpTransport(Duration requestTimeout) {
    this(
        HttpClient.newBuilder()
            .connectTimeout(requestTimeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .build(),
        requestTimeout);
  }

  /** A transport over your own client. */
  public JdkHttpTransport(HttpClient client, Duration requestTimeout) {
    this.client = client;
    this.requestTimeout = requestTimeout;
  }

  @Override
  public Response send(Request request) throws IOException, InterruptedException {
    HttpRequest.Builder builder = HttpRequest.newBuilder(request.uri()).timeout(requestTimeout);
    for (Map.Entry<String, String> header : request.headers().entrySet()) {
      builder.header(header.getKey(), header.getValue());
    }
    if (request.body() != null) {
      builder.POST(HttpRequest.BodyPublishers.ofByteArray(request.body()));
    } else {
      builder.GET();
    }
    HttpResponse<Void> response = client.send(builder.build(), HttpResponse.BodyHandlers.discarding());
    return new Response(response.statusCode(), response.headers().firstValue("Retry-After").orElse(null));
  }
}
