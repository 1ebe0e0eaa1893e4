"""The cluster test's driver program, run by spark-submit: the campaign and users workflows, as `lake` runs them."""

import sys

from lakekit.cli import main

if __name__ == "__main__":
    root, randomuser = sys.argv[1], sys.argv[2]
    for argv in (
        ["workflow", "run", "campaign", "--lake-root", root],
        ["workflow", "run", "users", "--lake-root", root, "--arg", f"url={randomuser}", "--arg", "requests=2"],
    ):
        status = main(argv)
        if status:
            sys.exit(status)
