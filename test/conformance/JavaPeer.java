// An HTTP/1.1 service on the JDK's com.sun.net.httpserver, and clients on
// java.net.http for HTTP and WebSocket (JDK 17, Debian's
// openjdk-17-jdk-headless; Java runs this source file): implementations that
// are neither Node's nor ours. java-http.test.ts, java-https.test.ts and
// java-websocket.test.ts run each client directly and through the tunnel
// and compare the outcomes: the HTTP client against this service, the
// WebSocket client against websockets-peer.py's service (Python's
// websockets), so that no two ends share an implementation. Asked for HTTP/2
// over cleartext, the HTTP client offers an h2c upgrade with every request,
// which both this service and the edge decline: it goes on in HTTP/1.1. Over
// TLS it speaks HTTP/2 to the edge (ALPN).
//   java JavaPeer.java serve                    prints the port, serves until killed
//   java -Djdk.httpclient.allowRestrictedHeaders=host JavaPeer.java http PORT HOST http1|h2c
//   java JavaPeer.java http PORT HOST h2 CA     HTTP/2 over TLS to https://HOST, trusting CA
//   java -Djdk.httpclient.allowRestrictedHeaders=host JavaPeer.java websocket PORT HOST
//   java JavaPeer.java websocket PORT HOST CA   over TLS to wss://HOST, trusting CA
//                                               print each case's outcome as JSON
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class JavaPeer {
  static final int MiB = 1024 * 1024;

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "serve" -> HttpService.serve();
      case "http" -> System.out.println(json(HttpCases.run(Integer.parseInt(args[1]), args[2], args[3], args.length > 4 ? args[4] : null)));
      case "websocket" -> System.out.println(json(WebSocketCases.run(Integer.parseInt(args[1]), args[2], args.length > 3 ? args[3] : null)));
      default -> throw new IllegalArgumentException("serve, http or websocket");
    }
    // A client's selector thread would keep the process alive; the service runs until killed.
    if (!args[0].equals("serve")) System.exit(0);
  }

  // Fields each hop sets for itself (the edge adds its own forwarding fields and request id; the
  // h2c offer is the first hop's alone), and the framing fields, which each hop picks for itself.
  static final Set<String> hopFields = Set.of("date", "server", "connection", "keep-alive", "via", "forwarded", "x-forwarded-for",
      "x-forwarded-proto", "x-forwarded-host", "x-request-id", "traceparent", "upgrade", "http2-settings", "host", "content-length",
      "transfer-encoding");

  /** Field names lowercased, in order by name; same-named fields keep their order; hop and framing fields left out. */
  static List<Object> fields(Map<String, List<String>> headers) {
    List<Object> kept = new ArrayList<>();
    headers.entrySet().stream().sorted(Comparator.comparing(entry -> entry.getKey().toLowerCase())).forEach(entry -> {
      String name = entry.getKey().toLowerCase();
      if (hopFields.contains(name) || name.startsWith(":")) return;
      for (String value : entry.getValue()) kept.add(List.of(name, value));
    });
    return kept;
  }

  static byte[] patterned(int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) bytes[i] = (byte) (i % 251);
    return bytes;
  }

  /**
   * A client builder for TLS to `authority` (NAME:PORT), trusting only the certificate at `caPath`. NAME
   * resolves to 127.0.0.1 through a hosts file of the peer's own (the JDK's jdk.net.hosts.file), which
   * the JDK reads at the first name looked up: so this runs before any.
   */
  static HttpClient.Builder overTls(String authority, String caPath) throws Exception {
    Path hosts = Files.createTempFile("java-peer-hosts", "");
    hosts.toFile().deleteOnExit();
    Files.writeString(hosts, "127.0.0.1 " + authority.replaceFirst(":\\d+$", "") + "\n");
    System.setProperty("jdk.net.hosts.file", hosts.toString());
    KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
    trusted.load(null, null);
    try (InputStream pem = Files.newInputStream(Path.of(caPath))) {
      trusted.setCertificateEntry("authority", CertificateFactory.getInstance("X.509").generateCertificate(pem));
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, trust.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(tls);
  }

  static String sha(byte[] data) throws Exception {
    return shortHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  /** A digest's first 8 bytes in hex, as the Python peers print them. */
  static String shortHex(byte[] digest) {
    StringBuilder hex = new StringBuilder();
    for (int i = 0; i < 8; i++) hex.append(String.format("%02x", digest[i]));
    return hex.toString();
  }

  interface Case {
    Object run() throws Exception;
  }

  static Object outcome(Case test) {
    Map<String, Object> result = new LinkedHashMap<>();
    try {
      result.put("ok", test.run());
    } catch (Exception error) { // a failure of the case itself, shown as such
      String message = String.valueOf(error.getMessage());
      result.put("exception", error.getClass().getSimpleName() + ": " + message.substring(0, Math.min(200, message.length())));
    }
    return result;
  }

  static String json(Object value) {
    if (value == null) return "null";
    if (value instanceof String) return quoted((String) value);
    if (value instanceof byte[]) return quoted("bytes " + ((byte[]) value).length);
    if (value instanceof Number || value instanceof Boolean) return value.toString();
    StringBuilder out = new StringBuilder();
    if (value instanceof Map) {
      out.append('{');
      for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
        if (out.length() > 1) out.append(',');
        out.append(quoted(entry.getKey().toString())).append(':').append(json(entry.getValue()));
      }
      return out.append('}').toString();
    }
    out.append('[');
    for (Object item : (List<?>) value) {
      if (out.length() > 1) out.append(',');
      out.append(json(item));
    }
    return out.append(']').toString();
  }

  static String quoted(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20 || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }

  /** The service the HTTP client calls directly and through the tunnel: one path per case. */
  static class HttpService {
    static void serve() throws IOException {
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(Executors.newCachedThreadPool());
      server.createContext("/", exchange -> {
        try (exchange) {
          route(exchange);
        } catch (Exception error) {
          System.err.println("service: " + error);
        }
      });
      server.start();
      System.out.println(server.getAddress().getPort());
      System.out.flush();
    }

    static void answer(HttpExchange exchange, int status, byte[] body) throws IOException {
      boolean bodiless = exchange.getRequestMethod().equals("HEAD") || status == 204 || status == 304;
      exchange.sendResponseHeaders(status, bodiless || body.length == 0 ? -1 : body.length);
      if (bodiless) return;
      exchange.getResponseBody().write(body);
      // Out before the exchange's end, which drops the connection when the request's body is left unread.
      exchange.getResponseBody().flush();
    }

    static void answerInPieces(HttpExchange exchange, byte[] body) throws IOException {
      exchange.sendResponseHeaders(200, 0); // 0: chunked
      OutputStream out = exchange.getResponseBody();
      for (int offset = 0, step = 1; offset < body.length; offset += step, step = Math.min(step * 3 + 1, 300_000)) {
        out.write(body, offset, Math.min(step, body.length - offset));
        out.flush();
      }
    }

    static void route(HttpExchange exchange) throws Exception {
      String[] parts = exchange.getRequestURI().getRawPath().split("/");
      String name = parts.length > 1 ? parts[1] : "";
      switch (name) {
        case "echo": {
          byte[] body = exchange.getRequestBody().readAllBytes();
          URI uri = exchange.getRequestURI();
          String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
          Map<String, Object> read = new LinkedHashMap<>();
          read.put("method", exchange.getRequestMethod());
          read.put("target", target);
          read.put("fields", fields(exchange.getRequestHeaders()));
          read.put("upgrade", exchange.getRequestHeaders().getFirst("Upgrade"));
          read.put("bytes", body.length);
          read.put("sha", sha(body));
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          answer(exchange, 200, json(read).getBytes(StandardCharsets.UTF_8));
          break;
        }
        case "sized":
          answer(exchange, 200, patterned(Integer.parseInt(parts[2])));
          break;
        case "chunked":
          answerInPieces(exchange, patterned(Integer.parseInt(parts[2])));
          break;
        case "slowly": {
          exchange.sendResponseHeaders(200, 0);
          OutputStream out = exchange.getResponseBody();
          for (int part = 0; part < 5; part++) {
            out.write(("part " + part + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            Thread.sleep(100);
          }
          break;
        }
        case "status": {
          int code = Integer.parseInt(parts[2]);
          if (code == 204 || code == 304) exchange.getResponseHeaders().add("X-Why", "status");
          if (code == 301 || code == 307) exchange.getResponseHeaders().add("Location", "/elsewhere?x=1");
          answer(exchange, code, ("status " + code).getBytes(StandardCharsets.UTF_8));
          break;
        }
        case "cookies":
          exchange.getResponseHeaders().add("Set-Cookie", "a=1; Path=/");
          exchange.getResponseHeaders().add("Set-Cookie", "b=2; HttpOnly; Path=/");
          exchange.getResponseHeaders().add("Set-Cookie", "c=\"x y\"; Path=/p");
          answer(exchange, 200, "cookies".getBytes(StandardCharsets.UTF_8));
          break;
        case "large-field":
          exchange.getResponseHeaders().add("X-Large", "h".repeat(Integer.parseInt(parts[2])));
          exchange.getResponseHeaders().add("X-After", "one");
          answer(exchange, 200, "large".getBytes(StandardCharsets.UTF_8));
          break;
        case "closing":
          exchange.getResponseHeaders().add("Connection", "close");
          answer(exchange, 200, "closing".getBytes(StandardCharsets.UTF_8));
          break;
        case "gzipped": {
          ByteArrayOutputStream compressed = new ByteArrayOutputStream();
          try (GZIPOutputStream gzip = new GZIPOutputStream(compressed)) {
            gzip.write("compress me ".repeat(10_000).getBytes(StandardCharsets.UTF_8));
          }
          exchange.getResponseHeaders().add("Content-Encoding", "gzip");
          answer(exchange, 200, compressed.toByteArray());
          break;
        }
        case "refused-unread":
          answer(exchange, 413, "too large".getBytes(StandardCharsets.UTF_8));
          // Then the body, read and dropped: closed with it unread, the connection would end in a reset
          // that takes the answer with it (the JDK server does not linger).
          exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
          break;
        case "upload": {
          MessageDigest digest = MessageDigest.getInstance("SHA-256");
          long size = 0;
          InputStream in = exchange.getRequestBody();
          byte[] buffer = new byte[65536];
          for (int n; (n = in.read(buffer)) > 0; size += n) digest.update(buffer, 0, n);
          Map<String, Object> read = new LinkedHashMap<>();
          read.put("bytes", size);
          read.put("sha", shortHex(digest.digest()));
          read.put("chunked", exchange.getRequestHeaders().getFirst("Transfer-Encoding"));
          read.put("expect", exchange.getRequestHeaders().getFirst("Expect"));
          answer(exchange, 200, json(read).getBytes(StandardCharsets.UTF_8));
          break;
        }
        default:
          answer(exchange, 404, "no such case".getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  /** The HTTP cases, each as the client saw it. */
  static class HttpCases {
    static HttpClient client;
    static String base;
    static String host;

    static HttpRequest.Builder request(String path) {
      HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
      return host == null ? builder : builder.header("Host", host);
    }

    static Map<String, Object> seen(HttpResponse<byte[]> response) throws Exception {
      Map<String, Object> seen = new LinkedHashMap<>();
      seen.put("status", response.statusCode());
      seen.put("version", response.version().toString());
      seen.put("fields", fields(response.headers().map()));
      seen.put("bytes", response.body().length);
      seen.put("sha", sha(response.body()));
      return seen;
    }

    static Map<String, Object> fetch(String method, String path, HttpRequest.BodyPublisher body, String... headers) throws Exception {
      HttpRequest.Builder builder = request(path).method(method, body);
      if (headers.length > 0) builder.headers(headers);
      return seen(client.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray()));
    }

    static Map<String, Object> get(String path, String... headers) throws Exception {
      return fetch("GET", path, HttpRequest.BodyPublishers.noBody(), headers);
    }

    /** What the service read of an upload, as the JSON it answered. */
    static String upload(HttpRequest.BodyPublisher body, boolean expectContinue) throws Exception {
      HttpRequest upload = request("/upload").expectContinue(expectContinue).POST(body).build();
      HttpResponse<String> response = client.send(upload, HttpResponse.BodyHandlers.ofString());
      return response.statusCode() + " " + response.body();
    }

    /** The body as a stream of unknown length: sent chunked, in pieces of growing size. */
    static HttpRequest.BodyPublisher inPieces(byte[] body) {
      return HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body) {
        int step = 1;

        @Override
        public synchronized int read(byte[] into, int offset, int length) {
          int n = super.read(into, offset, Math.min(length, step));
          step = Math.min(step * 5 + 3, 200_000);
          return n;
        }
      });
    }

    /** `mode`: http1, h2c (HTTP/2 asked for over cleartext), or h2 (over TLS, trusting `caPath`). */
    static Map<String, Object> run(int port, String authority, String mode, String caPath) throws Exception {
      if (mode.equals("h2")) {
        client = overTls(authority, caPath).version(HttpClient.Version.HTTP_2).connectTimeout(Duration.ofSeconds(20)).build();
        base = "https://" + authority;
      } else {
        HttpClient.Version version = mode.equals("h2c") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1;
        client = HttpClient.newBuilder().version(version).connectTimeout(Duration.ofSeconds(20)).build();
        base = "http://127.0.0.1:" + port;
        host = authority;
      }
      Map<String, Object> results = new LinkedHashMap<>();
      for (int size : new int[] {0, 1, 16384, 65535, 65537, MiB, MiB + 1, 4 * MiB + 1}) {
        byte[] body = patterned(size);
        results.put("a response of " + size + " bytes", outcome(() -> get("/sized/" + size)));
        results.put("a chunked response of " + size + " bytes", outcome(() -> get("/chunked/" + size)));
        results.put("an upload of " + size + " bytes", outcome(() -> upload(HttpRequest.BodyPublishers.ofByteArray(body), false)));
        results.put("a chunked upload of " + size + " bytes", outcome(() -> upload(inPieces(body), false)));
      }
      results.put("an upload of 1 MiB after a 100 (Continue)", outcome(() -> upload(HttpRequest.BodyPublishers.ofByteArray(patterned(MiB)), true)));
      results.put("a request as the service read it", outcome(() -> {
        HttpRequest echo = request("/echo/a%20b/c?q=%E2%9C%93&x=1&x=2")
            .headers("X-Latin1", "caf\u00e9", "X-Twice", "one", "x-twice", "two", "Cookie", "a=1; b=2")
            .method("PATCH", HttpRequest.BodyPublishers.ofString("patch body"))
            .build();
        return client.send(echo, HttpResponse.BodyHandlers.ofString()).body();
      }));
      // Over HTTP/2 a head this large leaves the JDK's client in HEADERS and CONTINUATION frames.
      results.put("a request field of 20000 bytes as the service read it", outcome(() -> {
        HttpRequest large = request("/echo/large").header("X-Large", "r".repeat(20_000)).header("X-After", "one").build();
        return client.send(large, HttpResponse.BodyHandlers.ofString()).body();
      }));
      for (int code : new int[] {200, 201, 204, 206, 301, 304, 307, 400, 404, 418, 500, 503, 599}) {
        results.put("status " + code, outcome(() -> get("/status/" + code)));
        results.put("status " + code + " to HEAD", outcome(() -> fetch("HEAD", "/status/" + code, HttpRequest.BodyPublishers.noBody())));
      }
      results.put("HEAD of a sized response", outcome(() -> fetch("HEAD", "/sized/100000", HttpRequest.BodyPublishers.noBody())));
      results.put("three cookies", outcome(() -> get("/cookies")));
      for (int size : new int[] {1000, 16_000, 30_000}) {
        results.put("a response field of " + size + " bytes", outcome(() -> get("/large-field/" + size)));
      }
      results.put("Connection: close", outcome(() -> get("/closing")));
      results.put("the request after it", outcome(() -> get("/sized/10")));
      results.put("gzip", outcome(() -> get("/gzipped", "Accept-Encoding", "gzip")));
      results.put("a response written slowly", outcome(() -> get("/slowly")));
      // Over HTTP/2 the JDK 17 client never completes a request whose answer ends before its body is
      // sent (the answer, then RST_STREAM NO_ERROR, as RFC 9113 section 8.1 has it): it waits out its
      // timeout, from Node's own HTTP/2 server too (2026-12-05). Those cases run in HTTP/1.1 only.
      if (!mode.equals("h2")) {
        results.put("413 before a 2 MiB upload is read", outcome(() -> fetch("POST", "/refused-unread", HttpRequest.BodyPublishers.ofByteArray(patterned(2 * MiB)))));
        results.put("the request after that", outcome(() -> get("/sized/10")));
        results.put("413 after a 100 (Continue), before the upload is read", outcome(() -> {
          HttpRequest refused = request("/refused-unread").expectContinue(true).POST(HttpRequest.BodyPublishers.ofByteArray(patterned(2 * MiB))).build();
          return seen(client.send(refused, HttpResponse.BodyHandlers.ofByteArray()));
        }));
      }
      results.put("100 requests at once", outcome(() -> {
        List<CompletableFuture<HttpResponse<byte[]>>> answers = new ArrayList<>();
        for (int i = 0; i < 100; i++) answers.add(client.sendAsync(request("/sized/" + (70_000 + i)).build(), HttpResponse.BodyHandlers.ofByteArray()));
        int whole = 0;
        for (int i = 0; i < 100; i++) {
          HttpResponse<byte[]> answer = answers.get(i).join();
          if (answer.statusCode() == 200 && Arrays.equals(answer.body(), patterned(70_000 + i))) whole++;
        }
        return whole;
      }));
      return results;
    }
  }

  /** The WebSocket cases against websockets-peer.py's service, each as the client saw it. */
  static class WebSocketCases {
    static HttpClient client;
    static String base;
    static String host;

    /** What the client met, in order: a whole message (text or binary), a pong, a close or an error. */
    record Event(String kind, Object value) {}

    /** Queues each whole message (gathered from its parts) and what ends the connection. */
    static class Recorder implements WebSocket.Listener {
      final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
      final StringBuilder text = new StringBuilder();
      final ByteArrayOutputStream binary = new ByteArrayOutputStream();

      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
          events.add(new Event("text", text.toString()));
          text.setLength(0);
        }
        ws.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        binary.writeBytes(bytes);
        if (last) {
          events.add(new Event("binary", binary.toByteArray()));
          binary.reset();
        }
        ws.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onPong(WebSocket ws, ByteBuffer data) {
        events.add(new Event("pong", data.remaining()));
        ws.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onPing(WebSocket ws, ByteBuffer data) {
        ws.request(1); // the JDK answers with a pong by itself
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
        events.add(new Event("close", List.of(code, reason)));
        return null;
      }

      @Override
      public void onError(WebSocket ws, Throwable error) {
        events.add(new Event("error", error.getClass().getSimpleName() + " " + error.getMessage()));
      }

      Event next() throws Exception {
        Event event = events.poll(60, TimeUnit.SECONDS);
        if (event == null) throw new IllegalStateException("nothing within 60 s");
        return event;
      }

      /** The next whole message, or what ended the connection instead, as an exception. */
      Object message() throws Exception {
        Event event = next();
        if (event.kind.equals("text") || event.kind.equals("binary")) return event.value;
        throw new IllegalStateException(event.kind + " " + event.value);
      }

      /** Every message until the connection's end, then how it ended. */
      List<Object> untilEnd() throws Exception {
        List<Object> messages = new ArrayList<>();
        for (Event event = next(); ; event = next()) {
          if (event.kind.equals("close") || event.kind.equals("error")) return List.of(messages, event.kind, event.value);
          messages.add(event.value);
        }
      }
    }

    static WebSocket connect(String path, Recorder recorder, String... subprotocols) throws Exception {
      WebSocket.Builder builder = client.newWebSocketBuilder().header("X-Custom", "value").connectTimeout(Duration.ofSeconds(20));
      if (host != null) builder.header("Host", host);
      if (subprotocols.length > 0) builder.subprotocols(subprotocols[0], Arrays.copyOfRange(subprotocols, 1, subprotocols.length));
      return builder.buildAsync(URI.create(base + path), recorder).get(60, TimeUnit.SECONDS);
    }

    static void closeAndWait(WebSocket ws, Recorder recorder) throws Exception {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(60, TimeUnit.SECONDS);
      recorder.untilEnd();
    }

    /** Over TLS (wss://AUTHORITY) when given `caPath`, the certificate to trust. */
    static Map<String, Object> run(int port, String authority, String caPath) throws Exception {
      if (caPath != null) {
        client = overTls(authority, caPath).build();
        base = "wss://" + authority;
      } else {
        client = HttpClient.newHttpClient();
        base = "ws://127.0.0.1:" + port;
        host = authority;
      }
      Map<String, Object> results = new LinkedHashMap<>();
      for (int size : new int[] {0, 1, 125, 126, 127, 65535, 65536, 65537, MiB - 1, MiB, MiB + 1, 4 * MiB, 4 * MiB + 1, 16 * MiB + 1}) {
        results.put("echo of " + size + " bytes", outcome(() -> {
          Recorder recorder = new Recorder();
          WebSocket ws = connect("/echo", recorder);
          byte[] binary = new byte[size];
          for (int i = 0; i < size; i++) binary[i] = (byte) i;
          String text = "\u00e9".repeat(size / 2);
          ws.sendBinary(ByteBuffer.wrap(binary), true).get(60, TimeUnit.SECONDS);
          Object echoedBinary = recorder.message();
          ws.sendText(text, true).get(60, TimeUnit.SECONDS);
          Object echoedText = recorder.message();
          closeAndWait(ws, recorder);
          return List.of(echoedBinary instanceof byte[] && sha((byte[]) echoedBinary).equals(sha(binary)), text.equals(echoedText));
        }));
      }
      results.put("handshake", outcome(() -> {
        Recorder recorder = new Recorder();
        WebSocket ws = connect("/handshake/x?y=1", recorder, "superchat", "other", "chat");
        return List.of(recorder.message(), ws.getSubprotocol(), recorder.untilEnd());
      }));
      for (String close : new String[] {"1000", "1001", "3000", "4999/123", "1011/0"}) {
        results.put("the service closes with " + close, outcome(() -> {
          Recorder recorder = new Recorder();
          connect("/close/" + close, recorder);
          return recorder.untilEnd();
        }));
      }
      results.put("the client closes", outcome(() -> {
        Recorder recorder = new Recorder();
        WebSocket ws = connect("/echo", recorder);
        ws.sendText("x", true).get(60, TimeUnit.SECONDS);
        Object echoed = recorder.message();
        ws.sendClose(4001, "client says bye").get(60, TimeUnit.SECONDS);
        return List.of(echoed, recorder.untilEnd());
      }));
      results.put("a message the service sent in fragments", outcome(() -> {
        Recorder recorder = new Recorder();
        connect("/fragments", recorder);
        String text = (String) recorder.message();
        byte[] binary = (byte[]) recorder.message();
        return List.of(sha(text.getBytes(StandardCharsets.UTF_8)), text.length(), sha(binary), binary.length, recorder.untilEnd());
      }));
      results.put("a message the client sent in fragments", outcome(() -> {
        Recorder recorder = new Recorder();
        WebSocket ws = connect("/echo", recorder);
        ws.sendText("a".repeat(70_000), false).get(60, TimeUnit.SECONDS);
        ws.sendText("\u00fc", false).get(60, TimeUnit.SECONDS);
        ws.sendText("b", true).get(60, TimeUnit.SECONDS);
        String echoed = (String) recorder.message();
        closeAndWait(ws, recorder);
        return List.of(echoed.length(), sha(echoed.getBytes(StandardCharsets.UTF_8)));
      }));
      results.put("a ping from the service", outcome(() -> {
        Recorder recorder = new Recorder();
        connect("/ping", recorder);
        return recorder.untilEnd();
      }));
      results.put("a ping from the client", outcome(() -> {
        Recorder recorder = new Recorder();
        WebSocket ws = connect("/echo", recorder);
        ws.sendPing(ByteBuffer.wrap("q".repeat(125).getBytes(StandardCharsets.UTF_8))).get(60, TimeUnit.SECONDS);
        Event pong = recorder.next();
        closeAndWait(ws, recorder);
        return List.of(pong.kind, pong.value);
      }));
      results.put("2000 messages, then a close", outcome(() -> {
        Recorder recorder = new Recorder();
        connect("/burst", recorder);
        List<Object> end = recorder.untilEnd();
        List<?> messages = (List<?>) end.get(0);
        boolean inOrder = true;
        for (int i = 0; i < messages.size(); i++) inOrder &= messages.get(i).equals(("m" + i).repeat(10));
        return List.of(messages.size(), inOrder, end.get(1), end.get(2));
      }));
      // Only with a pause between the message and the end: with none, the JDK's client itself fails
      // now and then (InternalError before the message, or no word at all), directly as often as
      // through the tunnel (2 of 5 runs each way, 2026-12-05); python-websockets.test.ts covers it.
      results.put("the service ends its connection after a message (later)", outcome(() -> {
        Recorder recorder = new Recorder();
        connect("/end-after-message/later", recorder);
        return recorder.untilEnd();
      }));
      return results;
    }
  }
}
