"""The pure domain: records, the lifecycle state machine, parsing and errors (standard library only)."""
