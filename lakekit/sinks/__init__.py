"""Where tables are written: raw Parquet (append per source file) and curated Delta (load, MERGE, replace)."""
