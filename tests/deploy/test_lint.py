"""cfn-lint and checkov on the synthesized templates: no cfn-lint error, no checkov failure not in the skip file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SKIPS = REPO / "deploy" / "checkov-skips.yaml"
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"  # its own venv (make deploy-install): it pins packaging<24


def test_cfn_lint_finds_no_error(cdk_out, stack_names):
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    templates = [str(cdk_out / f"{name}.template.json") for name in stack_names]
    done = subprocess.run([str(cfn_lint), "--format", "parseable", *templates], capture_output=True, text=True)
    # Exit code bits: 2 errors, 4 warnings, 8 informational; warnings are printed, errors fail.
    errors = [line for line in done.stdout.splitlines() if ":E" in line]
    assert not done.returncode & 2 and not errors, "\n".join(errors) or done.stderr


def skipped_checks() -> dict[str, str]:
    """deploy/checkov-skips.yaml: {check id: why it does not apply or is accepted}; each has a reason."""
    skips = yaml.safe_load(SKIPS.read_text())
    assert all(isinstance(why, str) and len(why.split()) >= 4 for why in skips.values()), "a skip without its reason"
    return skips


def test_checkov_fails_nothing_outside_the_skip_file(cdk_out, stack_names, tmp_path):
    assert CHECKOV.is_file() or shutil.which("checkov"), "checkov is missing: run make deploy-install"
    checkov = str(CHECKOV) if CHECKOV.is_file() else shutil.which("checkov")
    templates = tmp_path / "templates"
    templates.mkdir()
    for name in stack_names:
        shutil.copy(cdk_out / f"{name}.template.json", templates)
    done = subprocess.run(
        [
            checkov,
            "--framework",
            "cloudformation",
            "--directory",
            str(templates),
            "--skip-check",
            ",".join(skipped_checks()),
            "--output",
            "json",
            "--quiet",
            "--compact",
        ],
        capture_output=True,
        text=True,
    )
    reports = json.loads(done.stdout) if done.stdout.strip() else []
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for report in reports
        for check in report.get("results", {}).get("failed_checks", [])
    ]
    assert done.returncode == 0 and not failed, "\n".join(failed) or done.stderr[-2000:]
    passed = sum(report.get("summary", {}).get("passed", 0) for report in reports)
    assert passed > 50, "checkov checked (almost) nothing"


def test_every_skip_is_still_needed_or_documented():
    """Each skipped check id looks like one (CKV_AWS_n, CKV2_AWS_n): a typo would skip nothing and hide nothing."""
    for check in skipped_checks():
        assert check.split("_")[0] in ("CKV", "CKV2") and check.split("_")[-1].isdigit(), check
