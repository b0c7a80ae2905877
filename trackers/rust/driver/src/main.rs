//! The conformance driver binary (see the library for the protocol).

fn main() {
    plowline_tracker_driver::run();
}
