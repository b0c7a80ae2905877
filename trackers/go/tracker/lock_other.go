//go:build !unix

package tracker

import "os"

// Without flock the lock file only marks the journal; two processes must not share it.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
