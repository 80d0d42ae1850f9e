"""What an import found: problems (row, column, reason in Chinese), the report, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass, field

JOB_PROBLEMS_KEPT = 1000  # bad rows listed on the job; the error workbook has them all


class ImportFileError(Exception):
    """The file as a whole cannot be imported (format, header, missing columns); the message is for the user."""


class CellError(Exception):
    """One cell is wrong; the message is for the user."""


@dataclass
class Problem:
    """One reason a row cannot be imported: row as the user sees it in Excel, column as headed in their sheet."""

    row: int
    column: str
    reason: str
    col_index: int | None = None  # 0-based position in the sheet, None when the column is missing


@dataclass
class ImportReport:
    """What an import found and did. In a dry run ``created``/``updated`` say what a commit would do."""

    file_name: str = ""
    format: str = ""
    sheet: str = ""
    sheet_index: int = 0
    header_row: int = 0
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    committed: bool = False
    atomic: bool = False
    rolled_back: bool = False
    reason_column: int = 0  # 0-based position for the "错误原因" column of the error workbook

    @property
    def errors(self) -> int:
        return len(self.bad_rows)

    def summary_line(self) -> str:
        return (f"rows={self.rows} valid={self.valid} errors={self.errors} created={self.created} "
                f"updated={self.updated}")

    def as_json(self, limit: int = JOB_PROBLEMS_KEPT) -> dict:
        return {
            "file": self.file_name, "format": self.format, "sheet": self.sheet, "header_row": self.header_row,
            "columns": self.columns, "ignored_columns": self.ignored_columns, "rows": self.rows,
            "valid": self.valid, "errors": self.errors, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "skipped": self.skipped, "committed": self.committed,
            "atomic": self.atomic, "rolled_back": self.rolled_back,
            "problems": [[p.row, p.column, p.reason] for p in self.problems[:limit]],
            "problems_total": len(self.problems),
        }
