//! In-process loopback services that answer `mock` statements at the protocol level.
