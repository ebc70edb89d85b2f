//! `agentc test`: runs `test` blocks against mocked services.
