"""Catalog tables as jobs touch them: the table handle (read, list raw files, write)."""

from lakekit.tables.handle import Changes, NewBatches, TableHandle

__all__ = ["Changes", "NewBatches", "TableHandle"]
