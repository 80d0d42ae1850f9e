#!/usr/bin/env python3
"""Rebuild the CJK font the PDFs embed: static/fonts/PortalSansSC-Regular.otf.

Source: Noto Sans SC Regular (SIL OFL 1.1) as shipped in the PyPI package ``pylopdf-fonts-zh-cn``::

    pip download --no-deps -d /tmp/font pylopdf-fonts-zh-cn==0.1.1
    python scripts/subset_font.py /tmp/font/pylopdf_fonts_zh_cn-0.1.1-py3-none-any.whl

The subset keeps every character of GB 2312 (6,763 hanzi of levels 1 and 2 plus its symbols),
ASCII, Latin-1, general punctuation, CJK symbols and full-width forms: about 2 MB instead of 8 MB.
The family is renamed ("Portal Sans SC") so that a PDF shows the shipped font was embedded, not
a system Noto; the OFL also asks modified versions not to pass as the original.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "static" / "fonts" / "PortalSansSC-Regular.otf"
FAMILY = "Portal Sans SC"
POSTSCRIPT = "PortalSansSC-Regular"
MEMBER = "pylopdf_fonts_zh_cn/NotoSansSC-Regular.otf"
EXTRA_RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 (·, ×, °)
    (0x2000, 0x206F),  # general punctuation (— … ‘ ’ “ ”)
    (0x2100, 0x214F),  # letterlike symbols (℃ №)
    (0x2460, 0x24FF),  # enclosed numbers (①)
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。《》【】)
    (0xFF00, 0xFFEF),  # full-width forms
]


def gb2312_characters() -> set[str]:
    """Every character GB 2312 encodes: rows 1–9 symbols, rows 16–55 level 1, rows 56–87 level 2 hanzi."""
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def charset() -> set[int]:
    codepoints = {ord(c) for c in gb2312_characters()}
    for start, end in EXTRA_RANGES:
        codepoints.update(range(start, end + 1))
    return codepoints


def load_source(path: Path) -> TTFont:
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            return TTFont(io.BytesIO(wheel.read(MEMBER)), recalcTimestamp=False)
    return TTFont(path, recalcTimestamp=False)


def rename(font: TTFont) -> None:
    """Give the subset its own names (family, full name, PostScript name, unique id)."""
    table = font["name"]
    for record in list(table.names):
        if record.nameID in (16, 17, 18, 21, 22):
            table.removeNames(nameID=record.nameID)
    names = {1: FAMILY, 2: "Regular", 3: f"{POSTSCRIPT};subset of Noto Sans SC 2.004", 4: FAMILY, 6: POSTSCRIPT}
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
        table.setName(value, name_id, 1, 0, 0)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [POSTSCRIPT]
        top = cff.topDictIndex[0]
        for key in ("FullName", "FamilyName"):
            if hasattr(top, key):
                setattr(top, key, FAMILY)


def build(source: Path, output: Path) -> Path:
    font = load_source(source)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(charset()))
    subsetter.subset(font)
    rename(font)
    output.parent.mkdir(parents=True, exist_ok=True)
    font.save(output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="NotoSansSC-Regular.otf, or the pylopdf-fonts-zh-cn wheel")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    out = build(args.source, args.output)
    cmap = TTFont(out).getBestCmap()
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB, {len(cmap)} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
