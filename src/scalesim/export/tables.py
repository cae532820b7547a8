"""The time series of a result (`timeseries` in --out's result.json) as files: CSV, the same
as `scalesim simulate --out` writes, or Parquet (pyarrow, the `parquet` extra), one file per
table with the run's system and seed in the file metadata. A CSV cell holds the result's
value to its 6 decimals (docs/results.md), as result.json and Parquet do: six significant
digits would cut 124.401023 to 124.401."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from scalesim.sim.timeseries import FILES, Table


class NoSeries(ValueError):
    """The result carries no time series."""


def _tables(result: dict[str, Any]) -> dict[str, Any]:
    if "timeseries" not in result:
        raise NoSeries("this result has no time series: use the result.json that "
                       "`scalesim simulate FILE --out DIR` writes")
    tables: dict[str, Any] = result["timeseries"]
    return tables


def _cell(value: Any) -> Any:
    """A CSV cell: nothing for null, a float to 6 decimals without trailing zeros."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return value


def write_csv(path: Path, table: Table) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table["columns"])
        writer.writerows([[_cell(value) for value in row] for row in table["rows"]])


def write_csv_files(result: dict[str, Any], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in _tables(result).items():
        path = directory / FILES.get(name, f"{name}.csv")
        write_csv(path, table)
        written.append(path)
    return written


def write_parquet_files(result: dict[str, Any], directory: Path) -> list[Path]:
    """One Parquet file per table; raises ImportError naming the extra when pyarrow is
    missing."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("Parquet needs pyarrow: pip install 'scalesim[parquet]'") from error
    tables = _tables(result)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        columns = table["columns"]
        data = {column: [row[i] for row in table["rows"]] for i, column in enumerate(columns)}
        text = ("workload", "component", "call", "version")
        arrow = pa.table({column: pa.array(values, type=pa.string() if column in text
                                           else None) for column, values in data.items()})
        arrow = arrow.replace_schema_metadata({"scalesim.system": result["system"],
                                               "scalesim.seed": str(result["seed"])})
        path = directory / FILES.get(name, f"{name}.csv").replace(".csv", ".parquet")
        pq.write_table(arrow, path)
        written.append(path)
    return written
