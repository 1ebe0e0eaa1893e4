"""Per-environment settings, shipped in the wheel as lakekit.conf: local.yaml (the embedded default), aws.yaml."""
