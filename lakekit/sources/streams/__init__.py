"""Event streams landed as files: the landing writer (files in Firehose's layout) and the streaming raw job."""
