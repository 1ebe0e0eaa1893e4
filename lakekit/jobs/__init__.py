"""Generic jobs: each module declares PIPELINE as a pipeline does, for jobs that work on any declared stream or source.

Found by lakekit.core.registry beside lakekit.pipelines. A module here names no pipeline and no table (only its
own jobs): it reads what catalog/ declares. Pipelines may import it (a workflow's step, a downstream job's
`reads`); it never imports a pipeline.
"""
