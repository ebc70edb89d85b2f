//! `agentc fmt`: the canonical layout of `.agent` source.
