"""Each pipeline's samples, one module per pipeline: `write(samples)` writes its folders under samples/.

scripts/make_samples.py runs every module found here; a new pipeline adds its own module and nothing else.
"""
