"""Thin Glue entry scripts, one per job; `lake job run JOB` runs them as Glue would."""
