"""The CDK app: `python deploy/app.py` synthesizes every environment's stack into deploy/cdk.out, offline."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `deploy` as a package, run from anywhere

from deploy.stack import build_app  # noqa: E402

if __name__ == "__main__":
    build_app().synth()
