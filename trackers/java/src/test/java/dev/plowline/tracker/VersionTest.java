package dev.plowline.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The version the tracker reports (and sends in tv) is the Maven artefact's. */
class VersionTest {
  @Test
  void trackerVersionIsThePomVersion() throws IOException {
    String pom = Files.readString(Path.of("pom.xml"));
    Matcher m = Pattern.compile("<artifactId>plowline-tracker</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
    assertTrue(m.find(), "the artefact's version in pom.xml");
    assertEquals(m.group(1), Tracker.VERSION);
    assertEquals("java-plowline-" + m.group(1), Tracker.TRACKER_VERSION);
  }
}
