package dev.plowline.tracker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A crash-safe event store: an append-only journal file.
 *
 * <p>Each {@link #add} appends one line {@code A<key> <json>} and each {@link #remove} one line
 * {@code R<key>,<key>...}, written to the file before the call returns, so a process that dies
 * (even by {@code kill -9}) loses no event the tracker accepted. With {@code fsync} every write
 * is also forced to the disk, which survives a power cut too, at the cost of a disk flush per
 * event. A torn last line (the process died mid-write) is ignored on the next open. Opening
 * compacts the journal (live events only, written to a temporary file that replaces the journal
 * atomically), and so does a remove once the dead lines outnumber the live ones.
 *
 * <p>A lock file ({@code <journal>.lock}) keeps a second process or store off the same journal.
 */
public final class FileJournalStore implements EventStore {
  private static final String HEADER = "plowline-journal 1";
  private static final int COMPACT_AFTER = 1024;

  private final Path path;
  private final boolean fsync;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final LinkedHashMap<Long, Map<String, String>> live = new LinkedHashMap<>();
  private FileChannel channel;
  private long nextKey;
  private int deadLines;
  private boolean closed;

  private FileJournalStore(Path path, boolean fsync) throws IOException {
    this.path = path.toAbsolutePath();
    this.fsync = fsync;
    Path parent = this.path.getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    this.lockChannel =
        FileChannel.open(
            this.path.resolveSibling(this.path.getFileName() + ".lock"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE);
    FileLock acquired;
    try {
      acquired = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      acquired = null;
    }
    if (acquired == null) {
      lockChannel.close();
      throw new IOException("the journal " + this.path + " is in use by another store");
    }
    this.lock = acquired;
    try {
      load();
      compact();
    } catch (IOException | RuntimeException e) {
      lock.release();
      lockChannel.close();
      throw e;
    }
  }

  /** Opens (or creates) the journal at {@code path}; writes reach the OS before returning. */
  public static FileJournalStore open(Path path) throws IOException {
    return new FileJournalStore(path, false);
  }

  /** Like {@link #open(Path)}; with {@code fsync} each write is also forced to the disk. */
  public static FileJournalStore open(Path path, boolean fsync) throws IOException {
    return new FileJournalStore(path, fsync);
  }

  private void load() throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    String text = new String(Files.readAllBytes(path), StandardCharsets.UTF_8);
    int start = 0;
    while (true) {
      int end = text.indexOf('\n', start);
      if (end < 0) {
        break; // no newline: a torn last write, ignored
      }
      apply(text.substring(start, end));
      start = end + 1;
    }
  }

  private void apply(String line) {
    try {
      if (line.startsWith("A")) {
        int space = line.indexOf(' ');
        long key = Long.parseLong(line.substring(1, space));
        live.put(key, payload(Json.parse(line.substring(space + 1))));
        nextKey = Math.max(nextKey, key + 1);
      } else if (line.startsWith("R")) {
        for (String key : line.substring(1).split(",", -1)) {
          live.remove(Long.parseLong(key));
        }
      }
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      // A damaged line (never written whole): skip it, keep the rest.
    }
  }

  private static Map<String, String> payload(Object json) {
    if (!(json instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("not an object");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getValue() instanceof String value)) {
        throw new IllegalArgumentException("not a string value");
      }
      out.put((String) e.getKey(), value);
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  private void compact() throws IOException {
    if (channel != null) {
      channel.close();
    }
    Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
    try (FileChannel out =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      StringBuilder text = new StringBuilder(HEADER).append('\n');
      for (Map.Entry<Long, Map<String, String>> e : live.entrySet()) {
        text.append('A').append(e.getKey()).append(' ').append(Json.write(e.getValue())).append('\n');
      }
      writeFully(out, text.toString());
      out.force(true);
    }
    Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    channel = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    deadLines = 0;
  }

  private static void writeFully(FileChannel out, String text) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
  }

  private void append(String line) {
    if (closed) {
      throw new IllegalStateException("the journal is closed");
    }
    try {
      writeFully(channel, line);
      if (fsync) {
        channel.force(false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the journal " + path, e);
    }
  }

  @Override
  public synchronized long add(Map<String, String> payload) {
    long key = nextKey;
    Map<String, String> copy = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(payload));
    append("A" + key + " " + Json.write(copy) + "\n");
    nextKey++;
    live.put(key, copy);
    return key;
  }

  @Override
  public synchronized List<StoredEvent> peek(int max) {
    List<StoredEvent> out = new ArrayList<>(Math.min(max, live.size()));
    Iterator<Map.Entry<Long, Map<String, String>>> it = live.entrySet().iterator();
    while (out.size() < max && it.hasNext()) {
      Map.Entry<Long, Map<String, String>> e = it.next();
      out.add(new StoredEvent(e.getKey(), e.getValue()));
    }
    return out;
  }

  @Override
  public synchronized void remove(Collection<Long> keys) {
    StringBuilder line = new StringBuilder("R");
    int removed = 0;
    for (Long key : keys) {
      if (live.containsKey(key)) {
        line.append(removed == 0 ? "" : ",").append(key);
        removed++;
      }
    }
    if (removed == 0) {
      return;
    }
    append(line.append('\n').toString());
    keys.forEach(live::remove);
    deadLines += removed + 1;
    if (deadLines > COMPACT_AFTER && deadLines > live.size()) {
      try {
        compact();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot compact the journal " + path, e);
      }
    }
  }

  @Override
  public synchronized int size() {
    return live.size();
  }

  @Override
  public boolean persistent() {
    return true;
  }

  /** The journal file. */
  public Path path() {
    return path;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      channel.close();
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
