"""The runtime: where code runs, what it reads and writes. Layers, each importing only those below it:
cli > pipelines > sources > sinks > catalog > core."""
