"""The tables of catalog/*.yaml: the model, metastore registration, Athena DDL and SQL, the crawler."""
