package dev.doppel.devstack;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository checkout, where the built runtimes and service jars live. */
public final class DoppelHome {

    private DoppelHome() {
    }

    public static Path locate() {
        String configured = System.getProperty("doppel.home", System.getenv("DOPPEL_HOME"));
        if (configured != null && !configured.isBlank() && isHome(Path.of(configured))) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (isHome(p)) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the doppel checkout (a folder with dev-stack/ and pom.xml); "
                + "set -Ddoppel.home or DOPPEL_HOME");
    }

    private static boolean isHome(Path p) {
        return Files.isDirectory(p.resolve("dev-stack")) && Files.isRegularFile(p.resolve("pom.xml"));
    }

    /** A directory that must exist because the build makes it; a clear message if it is missing. */
    public static Path built(Path dir, String what) {
        if (!Files.isDirectory(dir) && !Files.isRegularFile(dir)) {
            throw new IllegalStateException(what + " is not built (" + dir + " is missing): run ./doppel build first");
        }
        return dir;
    }
}
