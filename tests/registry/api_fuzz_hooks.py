"""Schemathesis hooks for the API fuzz run (tests/registry/test_api_fuzz.py), loaded by the schemathesis process.

What a JSON schema cannot state is stated here, never loosened: the ``gb11643`` format (an ID number with a
true check digit, a known area and a real birth date), the ``drf-cursor`` format (a cursor as the API writes
it), and that a new record's optional ``sex`` and
``birth_date``, when sent, are those of its ID number (they are checked against it).
"""

from __future__ import annotations

import base64
import re
from datetime import date

import schemathesis
from hypothesis import strategies as st
from stdnum.cn import ric

AREA = "320111"  # a county the area table knows (the test district's)


@st.composite
def id_numbers(draw) -> str:
    born = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2006, 12, 31)))
    body = f"{AREA}{born:%Y%m%d}{draw(st.integers(min_value=0, max_value=999)):03d}"
    return body + ric.calc_check_digit(body + "0")


schemathesis.openapi.format("gb11643", id_numbers())


@st.composite
def cursors(draw) -> str:
    """A paging cursor as the API writes them in ``next``/``previous`` (DRF: base64 of o=offset&r=reverse&p=id)."""
    parts = [f"o={draw(st.integers(min_value=0, max_value=999))}"] if draw(st.booleans()) else []
    parts += ["r=1"] if draw(st.booleans()) else []
    parts.append(f"p={draw(st.integers(min_value=0, max_value=2**63 - 1))}")
    return base64.b64encode("&".join(parts).encode()).decode()


schemathesis.openapi.format("drf-cursor", cursors())

VALID_ID = re.compile(r"^320111(\d{8})\d{2}(\d)[\dX]$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@schemathesis.hook
def map_body(ctx, body):
    operation = ctx.operation
    if operation.method.upper() != "POST" or operation.path != "/api/v1/veterans/" or not isinstance(body, dict):
        return body
    match = VALID_ID.match(body.get("id_number") or "") if isinstance(body.get("id_number"), str) else None
    if match is None:
        return body
    born, sequence = match.groups()
    # Only well-formed values are made to agree: a wrong type or shape stays what the negative case meant it to be.
    if body.get("sex") in ("M", "F"):
        body["sex"] = "M" if int(sequence) % 2 else "F"
    if isinstance(body.get("birth_date"), str) and DATE.match(body["birth_date"]):
        body["birth_date"] = f"{born[:4]}-{born[4:6]}-{born[6:]}"
    return body
