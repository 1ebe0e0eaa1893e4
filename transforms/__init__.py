"""Pure PySpark transformations: DataFrame in, DataFrame out. No I/O, no session, no AWS."""
