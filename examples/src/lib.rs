//! Runnable examples for the connector SDK; see the `examples/` targets.
