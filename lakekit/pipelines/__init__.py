"""One module per pipeline, each declaring PIPELINE: its jobs and workflows (found by lakekit.core.registry)."""
