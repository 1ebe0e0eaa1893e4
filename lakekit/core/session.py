"""The one place a SparkSession is made: locally with Delta and a Derby metastore, on Glue from GlueContext."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lakekit.core.settings import Settings
from lakekit.core.storage import is_s3

log = logging.getLogger(__name__)

DELTA_PACKAGE = "io.delta:delta-spark_2.12:3.3.2"
# S3A for Spark outside Glue: the hadoop-aws of pyspark 3.5's Hadoop (3.3.4), which brings the
# aws-java-sdk-bundle it was built with (1.12.262). Resolved only when a lake root is on S3.
S3A_PACKAGE = "org.apache.hadoop:hadoop-aws:3.3.4"
_MANIFEST = "lakekit-jars-{slug}.txt"

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


class SessionError(RuntimeError):
    """Spark was started without something the jobs need; the message says what to add."""


def ivy_dir() -> Path:
    return Path(os.environ.get("LAKE_IVY_DIR") or Path.home() / ".cache" / "lakekit" / "ivy").expanduser()


def ivy_home(package: str) -> Path:
    """Where Spark's package mechanism resolves `package`: each package in its own Ivy home, so the jars of
    one never mix with another's (Delta keeps the original home)."""
    return ivy_dir() if package == DELTA_PACKAGE else ivy_dir() / package.split(":")[1]


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


def metastore_dir(settings: Settings) -> Path:
    """Where the embedded Derby metastore lives: under a local lake root; for a lake on S3, on the driver.

    Derby cannot live on S3. For an S3 root it holds only the catalog (table names and locations, rebuilt
    from the lake by the jobs or `lake catalog crawl raw|curated`); every piece of state stays on S3.
    """
    if not is_s3(settings.lake_root):
        return Path(settings.lake_root) / "_metastore"
    slug = hashlib.sha1(settings.lake_root.encode()).hexdigest()[:16]
    return Path.home() / ".cache" / "lakekit" / "metastore" / slug


def s3a_conf(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Hadoop S3A settings from the standard AWS variables, so s3a (and s3, mapped to S3A) reach the same
    S3 API as boto3: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION / AWS_DEFAULT_REGION, and
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN when set (else S3A's default chain:
    profile, instance role). Given as spark.hadoop.* so executors on a cluster get them too."""
    env = os.environ if environ is None else environ
    conf = {
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",  # s3:// roots outside Glue/EMR
        "spark.hadoop.fs.s3a.committer.magic.enabled": "false",
        # Leave the parents' directory markers alone (Hadoop >= 3.3.1; "Controlling the S3A Directory Marker
        # Behavior"): by default each new file deletes the markers of every folder above it, the lake's shared
        # folders and other jobs' included, which a job's role may not delete (deploy/iam), and costs a request.
        "spark.hadoop.fs.s3a.directory.marker.retention": "keep",
    }
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = endpoint
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(endpoint.startswith("https")).lower()
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        conf["spark.hadoop.fs.s3a.endpoint.region"] = region
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        conf["spark.hadoop.fs.s3a.access.key"] = env["AWS_ACCESS_KEY_ID"]
        conf["spark.hadoop.fs.s3a.secret.key"] = env["AWS_SECRET_ACCESS_KEY"]
        provider = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        if env.get("AWS_SESSION_TOKEN"):
            conf["spark.hadoop.fs.s3a.session.token"] = env["AWS_SESSION_TOKEN"]
            provider = "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
        conf["spark.hadoop.fs.s3a.aws.credentials.provider"] = provider
    return conf


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


def launched() -> bool:
    """Whether a launcher (spark-submit, Glue) started the JVM: then it owns master, memory and classpath."""
    return bool(os.environ.get("PYSPARK_GATEWAY_PORT"))


def _with_jars(builder, packages: list[str]):
    jars, missing = [], []
    for package in packages:
        cached = cached_jars(package)
        if cached:
            jars += cached
        else:
            missing.append(package)
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    if missing:
        log.info("resolving %s through Spark's package mechanism (`lake jars` caches it)", ", ".join(missing))
        builder = builder.config("spark.jars.packages", ",".join(missing))
        builder = builder.config("spark.jars.ivy", str(ivy_home(missing[-1])))
    return builder


def resolve_jars(package: str) -> list[str]:
    """Resolve `package` once through Spark's package mechanism (Maven Central) into its Ivy home and
    record the jars, so later sessions start without network. In a child process: Spark resolves packages
    only when its JVM starts."""
    import subprocess
    import sys

    home = ivy_home(package)
    script = (
        "from pyspark.sql import SparkSession; "
        f"SparkSession.builder.master('local[1]').config('spark.jars.packages', {package!r})"
        f".config('spark.jars.ivy', {str(home)!r}).config('spark.ui.enabled', 'false').getOrCreate().stop()"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    jars = sorted(str(p) for p in (home / "jars").glob("*.jar"))
    if not jars:
        raise RuntimeError(f"Spark resolved {package} but no jar is in {home / 'jars'}")
    record_jars(package, jars)
    return jars


def _local_builder(settings: Settings, extra_conf: dict[str, Any] | None):
    from pyspark.sql import SparkSession

    spark_conf = settings.spark or {}
    package = (settings.delta or {}).get("package", DELTA_PACKAGE)
    on_s3 = is_s3(settings.lake_root)
    builder = SparkSession.builder.appName("lake")
    for key, value in DELTA_CONF.items():
        builder = builder.config(key, value)
    java_options = [
        "" if verbose() else f"-Dlog4j2.configurationFile={quiet_log_config().as_uri()}",
        spark_conf.get("java_options", ""),
        os.environ.get("LAKE_JAVA_OPTIONS", ""),
    ]
    if settings.metastore == "derby":
        metastore = metastore_dir(settings)
        metastore.mkdir(parents=True, exist_ok=True)
        java_options.insert(0, f"-Dderby.system.home={metastore}")
        builder = builder.config("spark.sql.catalogImplementation", "hive").config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true",
        )
    else:  # the Glue Data Catalog is written through its API (lakekit.catalog.glue), not through Spark
        builder = builder.config("spark.sql.catalogImplementation", "in-memory")
    builder = builder.config("spark.sql.warehouse.dir", settings.path("_warehouse"))
    if not launched():  # under spark-submit these come from its command line
        builder = (
            builder.master(spark_conf.get("master", "local[2]"))
            .config("spark.driver.memory", spark_conf.get("driver_memory", "4g"))
            .config("spark.driver.extraJavaOptions", " ".join(o for o in java_options if o).strip())
        )
        builder = _with_jars(builder, [package] + ([S3A_PACKAGE] if on_s3 else []))
    if on_s3:
        for key, value in s3a_conf().items():
            builder = builder.config(key, value)
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
    if settings.env == "local" or not launched():
        # Locally, and for another environment run outside its runtime (--env aws from a plain python,
        # against a local S3 API, say): a session of our own with Delta, and S3A when the root is on S3.
        if launched() and not verbose():
            _quiet_running_jvm()
        try:
            spark = _local_builder(settings, extra_conf).getOrCreate()
            if launched() and settings.metastore == "derby":
                # The driver JVM started before our options: Derby (created on first catalog use) would
                # put derby.log in the working folder.
                spark.sparkContext._jvm.java.lang.System.setProperty("derby.system.home", str(metastore_dir(settings)))
        except Exception as error:
            if "delta" in str(error).lower() and launched():
                # Under spark-submit the JVM is already running: jars named in the builder come too late.
                raise SessionError(
                    'spark-submit started Spark without Delta: pass the jars, e.g. spark-submit --jars "$(lake jars '
                    '--classpath)" jobs/<job>.py --JOB_NAME <job> …'
                ) from error
            raise
        level = os.environ.get("LAKE_SPARK_LOG_LEVEL") or (None if verbose() else "ERROR")
        if level:
            spark.sparkContext.setLogLevel(level)
        return spark
    # On Glue the runtime owns Spark's configuration (Delta via --datalake-formats and --conf, the Glue
    # Data Catalog via --enable-glue-datacatalog); only session-level settings are applied here.
    spark = SparkSession.builder.getOrCreate()
    for key, value in {**((settings.spark or {}).get("conf") or {}), **(extra_conf or {})}.items():
        spark.conf.set(key, str(value))
    return spark


def check_delta(spark) -> None:
    """Fail at start, naming the exact --conf to add, unless Delta's SQL extension and catalog are active.

    On Glue, --datalake-formats delta puts Delta's jars on the classpath but does not set these two:
    without them MERGE, OPTIMIZE and Delta's catalog fail halfway through a job.
    """
    extensions = [e.strip() for e in (spark.conf.get("spark.sql.extensions", None) or "").split(",")]
    missing = []
    if DELTA_CONF["spark.sql.extensions"] not in extensions:
        missing.append("spark.sql.extensions")
    catalog = spark.conf.get("spark.sql.catalog.spark_catalog", None) or ""
    if catalog != DELTA_CONF["spark.sql.catalog.spark_catalog"]:
        missing.append("spark.sql.catalog.spark_catalog")
    if missing:
        wanted = " --conf ".join(f"{k}={v}" for k, v in DELTA_CONF.items())
        raise SessionError(
            f"Delta is not active in this Spark session ({' and '.join(missing)} not set): add the job parameter "
            f"--conf with the value '{wanted}' (Glue: key --conf, value as quoted; spark-submit: each --conf)"
        )


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


@contextlib.contextmanager
def session_conf(spark, conf: dict[str, str]) -> Iterator[None]:
    """Spark SQL settings `conf` set for the block, each restored (or unset) after it."""
    saved = {key: spark.conf.get(key, None) for key in conf}
    for key, value in conf.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
