"""Table definitions, one YAML per table: the single source of truth for schemas (package data only)."""
