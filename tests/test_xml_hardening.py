"""Spreadsheets are parsed without expanding XML entities (billion laughs, external entities)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import read_workbook

SRC = Path(__file__).resolve().parents[1] / "src" / "nao_analysis"
ENTITY_BOMB = (
    '<!DOCTYPE bomb [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
)


def _workbook_with_entities(path: Path) -> Path:
    pd.DataFrame({"line": ["placeholder"]}).to_excel(path, index=False)
    with zipfile.ZipFile(path) as original:
        members = {name: original.read(name) for name in original.namelist()}
    strings = members["xl/sharedStrings.xml"].decode()
    strings = strings.replace("?>", "?>" + ENTITY_BOMB, 1).replace("<t>placeholder</t>", "<t>&c;&xxe;</t>")
    members["xl/sharedStrings.xml"] = strings.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for name, data in members.items():
            rebuilt.writestr(name, data)
    return path


def test_workbook_with_entity_declarations_is_refused_in_one_line(tmp_path):
    path = _workbook_with_entities(tmp_path / "bomb.xlsx")
    with pytest.raises(ReaderError) as caught:
        read_workbook(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert "root:" not in message  # /etc/passwd was never read


def test_every_spreadsheet_read_uses_calamine():
    # calamine parses XML in Rust without entity expansion; pandas' default engines would use Python XML parsers.
    calls = []
    for module in SRC.rglob("*.py"):
        for line in module.read_text().splitlines():
            if "read_excel(" in line and not line.lstrip().startswith(("#", "def ")):
                calls.append((module.name, line.strip()))
    assert calls
    assert all(re.search(r'engine="calamine"', line) for _, line in calls), calls


def test_openpyxl_writes_and_reads_through_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML
