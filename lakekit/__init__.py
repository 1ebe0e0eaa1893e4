"""The runtime: the only package that knows where the code runs (sessions, storage, bookmarks, catalog, CLI)."""
