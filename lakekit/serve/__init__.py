"""The event ingest service (`lake serve`): an HTTP API in front of landing files or a Kinesis stream."""
