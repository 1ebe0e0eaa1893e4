"""notebooks/: stored without outputs, and executed against the demo lake so it never rots."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.demo_lake import demo_lake

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_notebooks_are_stored_without_outputs():
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [p.name for p in notebooks] == ["campaign_exploration.ipynb"]
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert (cell.outputs, cell.execution_count) == ([], None), f"{path.name}: strip the outputs"


@pytest.mark.slow
def test_campaign_exploration_runs_on_the_demo_lake(spark, tmp_path_factory, monkeypatch):
    lake_root = demo_lake(spark, tmp_path_factory)
    monkeypatch.setenv("LAKE_ROOT", lake_root)
    notebook = nbformat.read(NOTEBOOKS / "campaign_exploration.ipynb", as_version=4)
    # The kernel is a new process: its own Spark, its own metastore under the demo lake root.
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == "stdout")
    assert f"lake {lake_root}: curated.campaign_task_progress, curated.campaign_tasks\n" in printed
    for user in ("USER#alice", "USER#bob", "USER#dave", "USER#heidi", "USER#kim", "USER#lena"):
        assert user in printed
    for state in ("COMPLETED", "FAILED", "PENDING", "IN_PROGRESS"):
        assert state in printed
    assert "9 progress rows, 0 validated after the deadline, no deadline: ['CAMP#winter TASK#bonus']" in printed
    # Spark's JVM logs nothing into the notebook (the kernel's stderr is shown in it).
    logged = "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == "stderr")
    assert logged == ""
    figures = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(figures) == 1
