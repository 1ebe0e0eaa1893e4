"""The one place a SparkSession is made: locally with Delta and a Derby metastore, on Glue from GlueContext."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from lakekit.core.settings import Settings

log = logging.getLogger(__name__)

DELTA_PACKAGE = "io.delta:delta-spark_2.12:3.3.2"
_MANIFEST = "lakekit-jars-{slug}.txt"


def verbose() -> bool:
    """`--verbose` (or LAKE_VERBOSE=1): Spark's own logging as Spark configures it, warnings and INFO lines included."""
    return os.environ.get("LAKE_VERBOSE", "").strip().lower() in ("1", "true", "yes", "on")


def quiet_log_config() -> Path:
    """The log4j2 configuration shipped with the package: only errors of Spark's JVM reach the console."""
    return Path(__file__).with_name("log4j2-quiet.properties")


def _quiet_running_jvm() -> None:
    """Under spark-submit the JVM started before this code: reconfigure its logging before the SparkContext starts."""
    from pyspark import SparkContext

    SparkContext._ensure_initialized()
    jvm = SparkContext._jvm
    jvm.org.apache.logging.log4j.core.config.Configurator.reconfigure(jvm.java.net.URI(quiet_log_config().as_uri()))


def ivy_dir() -> Path:
    return Path(os.environ.get("LAKE_IVY_DIR") or Path.home() / ".cache" / "lakekit" / "ivy").expanduser()


def _manifest(package: str) -> Path:
    return ivy_dir() / _MANIFEST.format(slug=package.replace(":", "_"))


def cached_jars(package: str = DELTA_PACKAGE) -> list[str] | None:
    """The jar files `lake jars` resolved earlier, if all are still on disk (then no network is needed)."""
    manifest = _manifest(package)
    if not manifest.exists():
        return None
    jars = [line for line in manifest.read_text().splitlines() if line.strip()]
    return jars if jars and all(Path(j).exists() for j in jars) else None


def record_jars(package: str, jars: list[str]) -> Path:
    manifest = _manifest(package)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text("\n".join(jars) + "\n")
    return manifest


def _local_builder(settings: Settings, extra_conf: dict[str, Any] | None):
    from pyspark.sql import SparkSession

    spark_conf = settings.spark or {}
    package = (settings.delta or {}).get("package", DELTA_PACKAGE)
    metastore = Path(settings.lake_root) / "_metastore"
    metastore.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.appName("lake")
        .master(spark_conf.get("master", "local[2]"))
        .config("spark.driver.memory", spark_conf.get("driver_memory", "4g"))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.catalogImplementation", "hive")
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true",
        )
        .config("spark.sql.warehouse.dir", str(Path(settings.lake_root) / "_warehouse"))
        .config(
            "spark.driver.extraJavaOptions",
            " ".join(
                option
                for option in [
                    f"-Dderby.system.home={metastore}",
                    "" if verbose() else f"-Dlog4j2.configurationFile={quiet_log_config().as_uri()}",
                    spark_conf.get("java_options", ""),
                    os.environ.get("LAKE_JAVA_OPTIONS", ""),
                ]
                if option
            ),
        )
    )
    jars = cached_jars(package)
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    else:
        log.info("resolving %s through Spark's package mechanism (run `lake jars` once to cache it)", package)
        builder = builder.config("spark.jars.packages", package).config("spark.jars.ivy", str(ivy_dir()))
    event_logs = os.environ.get("LAKE_EVENT_LOG_DIR")
    if event_logs:  # for profiling (bench/eventlog.py reads them)
        Path(event_logs).mkdir(parents=True, exist_ok=True)
        builder = builder.config("spark.eventLog.enabled", "true").config("spark.eventLog.dir", event_logs)
    for key, value in {**(spark_conf.get("conf") or {}), **(extra_conf or {})}.items():
        builder = builder.config(key, str(value))
    return builder


def get_spark(settings: Settings, extra_conf: dict[str, Any] | None = None):
    """The process's SparkSession for these settings (made once; later calls get the same session)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if settings.env == "local":
        if os.environ.get("PYSPARK_GATEWAY_PORT") and not verbose():
            _quiet_running_jvm()
        try:
            spark = _local_builder(settings, extra_conf).getOrCreate()
        except Exception as error:
            if "delta" in str(error).lower() and os.environ.get("PYSPARK_GATEWAY_PORT"):
                # Under spark-submit the JVM is already running: jars named in the builder come too late.
                raise RuntimeError(
                    'spark-submit started Spark without Delta: pass the jars, e.g. spark-submit --jars "$(lake jars '
                    '--classpath)" jobs/<job>.py --JOB_NAME <job> …'
                ) from error
            raise
        level = os.environ.get("LAKE_SPARK_LOG_LEVEL") or (None if verbose() else "ERROR")
        if level:
            spark.sparkContext.setLogLevel(level)
        return spark
    # On Glue the runtime owns Spark's configuration (Delta via --datalake-formats, the Glue Data
    # Catalog via --enable-glue-datacatalog); only session-level settings are applied here.
    spark = SparkSession.builder.getOrCreate()
    for key, value in {**((settings.spark or {}).get("conf") or {}), **(extra_conf or {})}.items():
        spark.conf.set(key, str(value))
    return spark


def glue_context(spark):
    """A GlueContext when running inside AWS Glue, else None (Glue's JVM library is absent locally)."""
    try:
        from awsglue.context import GlueContext
        from py4j.java_gateway import JavaClass
    except ImportError:
        return None
    jvm_class = spark.sparkContext._jvm.com.amazonaws.services.glue.GlueContext
    if not isinstance(jvm_class, JavaClass):
        return None
    return GlueContext(spark.sparkContext)
