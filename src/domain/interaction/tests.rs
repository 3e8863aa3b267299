//! Given/when/then tests for the interaction decider.
