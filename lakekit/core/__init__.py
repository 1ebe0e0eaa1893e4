"""Settings, SparkSession, storage, state (bookmarks, logs, locks), the job run with Glue's arguments, failpoints."""
