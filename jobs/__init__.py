"""Thin Glue entry scripts, one per job; `lake run JOB` runs them as Glue would."""
