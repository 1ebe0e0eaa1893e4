"""Settings, shipped in the wheel as lakekit.conf: base.yaml (every environment's), with local.yaml (the embedded
default) or aws.yaml over it."""
