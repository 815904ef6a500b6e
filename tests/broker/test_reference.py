"""The shipped instrument list as the broker reads it: by code, each row parsed on first use.

The oracle is a plain full parse of the same CSV with the standard library's DictReader (every column by name,
rows without a listing date left out), not the code under test.
"""

from __future__ import annotations

import csv

import pytest

from scripts.broker.reference import DATA_DIR, InstrumentTable, instruments, search_instruments


def full_parse() -> dict[str, tuple[str, str]]:
    with (DATA_DIR / "instruments.csv").open(encoding="utf-8") as handle:
        return {row["stock_code"]: (row["short_name"], row["exchange"])
                for row in csv.DictReader(handle) if row["list_date"]}


def test_the_table_holds_exactly_the_listed_rows_of_the_csv_with_their_names_and_exchanges() -> None:
    expected = full_parse()
    table = instruments()
    assert len(table) == len(expected) > 5000
    assert set(table) == set(expected)
    assert {symbol: (info.name, info.exchange) for symbol, info in table.items()} == expected
    assert all(info.symbol == symbol for symbol, info in table.items())


def test_a_code_that_is_not_listed_reads_as_absent_like_a_dict() -> None:
    table = instruments()
    assert "000003" not in table  # PT金田A: in the file without a listing date
    assert "999999" not in table
    assert table.get("999999") is None
    with pytest.raises(KeyError):
        table["000003"]


def test_a_row_is_parsed_once_and_names_with_full_width_letters_survive() -> None:
    table = instruments()
    assert table["600519"] is table["600519"]
    assert table["600519"].name == "贵州茅台"
    assert table["600519"].board == "MAIN"
    assert table["000002"].name == "万科Ａ"  # as shipped; matching folds it, the table does not
    assert table["300750"].board == "CHINEXT"
    assert table["688981"].board == "STAR"


def test_a_file_with_other_columns_is_refused_rather_than_misread() -> None:
    with pytest.raises(ValueError, match="expected the columns"):
        InstrumentTable("code,name,exchange,list_date\n600519,贵州茅台,SH,2001-08-27\n")


def test_search_still_finds_by_name_and_by_code() -> None:
    assert [info.symbol for info in search_instruments("茅台", 5)] == ["600519"]
    assert search_instruments("600519", 5)[0].name == "贵州茅台"
