//! One executor per external target kind, each speaking its real protocol.
