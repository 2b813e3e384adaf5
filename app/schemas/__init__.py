"""API schemas (non-table models: these validate), split by resource."""
