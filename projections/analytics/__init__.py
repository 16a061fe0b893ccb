"""ClickHouse analytics: versioned schema, the projector that feeds it, and the report queries."""
