"""The import framework: an app's import is an ``ImportSpec`` run by ``run_import`` (see ``engine``).

Parts: ``reading`` (xlsx/xls with python-calamine, csv; zip-bomb and size checks), ``xlsx_stream`` (the
hand-written reader kept for what calamine cannot do), ``headers`` (columns, synonyms, the header row),
``cells`` (parsers), ``lookups`` (choice lists, units in the user's tree), ``problems`` (the report),
``workbooks`` (error workbook, template with drop-downs), ``writing`` (COPY, set-based history, trigger
switches), ``jobs`` (upload → preview → commit as a ``core.Job``).
"""

from .cells import CellError, ParsedDate, as_text, clean_text, code_key, memo, parse_date, tidy_text
from .engine import ImportRun, ImportSpec, ParsedRow, Writer, run_import
from .headers import Column, Mapped
from .lookups import ChoiceList, UnitLookup
from .problems import ImportFileError, ImportReport, Problem
from .reading import Source

__all__ = ["CellError", "ChoiceList", "Column", "ImportFileError", "ImportReport", "ImportRun", "ImportSpec",
           "Mapped", "ParsedDate", "ParsedRow", "Problem", "Source", "UnitLookup", "Writer", "as_text",
           "clean_text", "code_key", "memo", "parse_date", "run_import", "tidy_text"]
