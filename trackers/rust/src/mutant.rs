//! Planted bugs for the conformance mutation session (feature `mutants` only).

/// Whether the mutant `name` is selected by the `PLOWLINE_MUTANT` environment variable.
pub(crate) fn active(name: &str) -> bool {
    std::env::var("PLOWLINE_MUTANT").is_ok_and(|selected| selected == name)
}
