"""One wheel for Glue's --additional-python-modules: the transforms, the runtime, the jobs, the catalog."""

from setuptools import find_packages, setup

setup(
    name="lakekit",
    version="0.1.0",
    description="A Spark data-lake toolkit for AWS Glue: raw Parquet, curated Delta, serving, Athena",
    python_requires=">=3.11",
    # The runtime's packages, found from the tree (a new pipeline needs no change here); conf/ ships as
    # lakekit.conf so an installed wheel loads --env aws. Test-data writers (scripts/) stay out.
    packages=["transforms", "jobs", "catalog", "lakekit.conf"]
    + ["lakekit"]
    + [f"lakekit.{p}" for p in find_packages("lakekit")],
    package_dir={"lakekit.conf": "conf"},
    package_data={"catalog": ["*/*.yaml"], "lakekit.conf": ["*.yaml"], "lakekit.core": ["*.properties"]},
    install_requires=[
        "pyyaml>=6",
        "pydantic>=2.8",  # the conf's schema (lakekit/core/settings.py) and the pipelines' settings models
        # The S3 lock's conditional writes: PutObject IfNoneMatch and IfMatch, DeleteObject IfMatch. botocore
        # 1.35.69 is the first whose S3 model has all three (1.35.67 added DeleteObject's, 1.35.69 PutObject's
        # IfMatch; read from the released wheels' models). An older botocore refuses the lock's calls with a
        # ParamValidationError before sending them: tests/deploy/test_botocore_floor.py proves both sides.
        "boto3>=1.35.69",
        # lake serve (the event ingest service) and lake produce (its progress bar)
        "fastapi>=0.110",
        "uvicorn>=0.29",
        "httpx>=0.27",
        "fastjsonschema>=2.19",
        "orjson>=3.9",
        "rich>=13",  # progress and the console: a live display on a terminal, plain lines otherwise
    ],
    extras_require={
        # Glue 5.1 ships these; locally they are installed explicitly, pinned to the runtime.
        "spark": ["pyspark==3.5.6", "delta-spark==3.3.2", "awsgluedataplanepython==5.1.0"],
        "dev": [
            "pyspark==3.5.6",
            "delta-spark==3.3.2",
            "awsgluedataplanepython==5.1.0",
            "chispa>=0.10",
            "pytest>=8",
            "hypothesis>=6.100",
            "ruff>=0.6",
            "build>=1.2",
            "moto[server]>=5.1",
            # botocore 1.44.18 speaks rest-json to Athena (its model's protocol changed from json); moto 5.2.6,
            # the newest, serves Athena's json protocol only and answers 404. Real Athena takes both.
            "botocore<1.44.18",
            "pytest-xdist>=3.5",
            "import-linter>=2.1",
            # open-table read-back tests: delta-rs (what Polars and pandas read Delta with) and pyarrow
            "deltalake[pyarrow]==1.6.6",
            # queries/ run locally (Athena SQL -> Spark SQL) and notebooks/ executed in the tests
            "sqlglot>=25",
            "nbclient>=0.10",
            "nbformat>=5.10",
            "ipykernel>=6.29",
            "matplotlib>=3.8",
        ],
        "bench": ["duckdb>=1.1", "psutil>=5.9"],
        # deploy/ (the CDK app, never in the wheel) and its checks; checkov gets its own venv (make deploy-check):
        # it pins packaging<24, which pytest and build refuse.
        "deploy": ["aws-cdk-lib>=2.200,<3", "constructs>=10,<11", "cfn-lint>=1.20", "jsonata-python>=0.6"],
    },
    entry_points={"console_scripts": ["lake=lakekit.cli:main"]},
)
