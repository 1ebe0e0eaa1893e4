"""The cluster test's driver program, run by spark-submit: the campaign and users workflows (or those named
after the lake root and the API's URL), as `lake` runs them."""

import sys

from lakekit.cli import main

if __name__ == "__main__":
    root, randomuser, *names = sys.argv[1:]
    workflows = {
        "campaign": ["workflow", "run", "campaign", "--lake-root", root],
        "users": ["workflow", "run", "users", "--lake-root", root, "--arg", f"url={randomuser}", "--arg", "requests=2"],
    }
    for name in names or list(workflows):
        status = main(workflows[name])
        if status:
            sys.exit(status)
