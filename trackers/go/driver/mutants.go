package main

import (
	"os"

	"plowline.dev/trackers/go/tracker"
)

// Mutants (trackers/go/mutants/mutants.yaml) are planted here, in the driver, through the
// tracker's public options, when PLOWLINE_MUTANT names one; the tracker package knows
// nothing of them. Unset, both functions return nothing.
var mutant = os.Getenv("PLOWLINE_MUTANT")

var _ = mutant

func mutantEmitterOptions() []tracker.EmitterOption { return nil }

func mutantTrackerOptions(*session) []tracker.Option { return nil }
