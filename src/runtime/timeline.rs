//! Renders trace records as a readable timeline.
