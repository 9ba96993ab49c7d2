"""core.csvfiles: reading uploaded CSV files (one clear error per line) and streaming exports."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cloudmsp.core.csvfiles import csv_lines, csv_read


def read(text: str | bytes, **kwargs):
    data = text.encode() if isinstance(text, str) else text
    return csv_read(data, required=("account_id", "customer"), **kwargs)


def file_error(data: str | bytes, **kwargs) -> str:
    with pytest.raises(ValidationError) as exc:
        read(data, **kwargs)
    return exc.value.message_dict["file"][0]


def test_rows_keep_their_line_numbers_and_a_bom_is_accepted():
    table = read('\ufeffAccount_ID , customer\r\n111111111111,Acme\r\n\r\n222222222222,"Globex, Inc"\r\n')
    assert table.columns == ["account_id", "customer"]
    assert table.rows == [
        (2, {"account_id": "111111111111", "customer": "Acme"}),
        (4, {"account_id": "222222222222", "customer": "Globex, Inc"}),
    ]
    assert table.error_count == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"account_id,customer\n1,Caf\xe9\n", "Line 2: the file is not UTF-8 (byte 0xE9)"),
        ("", "The file is empty"),
        ("account_id\n1\n", "Line 1 (the header): missing column(s) customer"),
        ("account_id,customer,price\n", "unknown column(s) 'price'"),
        ("account_id,customer,customer\n", "repeated column(s) customer"),
        ('account_id,customer\n1,"unclosed\n', "this is not valid CSV"),
        ('account_id,customer\n1,"a"b\n', "Line 2: this is not valid CSV"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(data, message):
    assert message in file_error(data)


def test_size_and_row_limits(settings):
    settings.IMPORT_MAX_ROWS = 2
    assert "Line 4: the file has more than 2 rows" in file_error("account_id,customer\n1,a\n2,b\n3,c\n")
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    assert "larger than 1 MB" in file_error("account_id,customer\n" + "1,a\n" * 300_000)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("=HYPERLINK(1)", "starts with “=”"),
        ("+1", "starts with “+”"),
        ("-2", "starts with “-”"),
        ("@SUM(A1)", "starts with “@”"),
        ("  =1+1", "starts with “=”"),  # spaces first: still a formula to a spreadsheet
        ("\t=HYPERLINK(1)", "starts with “=”"),
        ("Acme\u202e", "U+202E"),
        ("Ac\x00me", "U+0000"),
        ("x" * 201, "longer than 200 characters"),
    ],
)
def test_bad_cells_are_an_error_on_their_line_and_column(cell, message):
    table = read(f'account_id,customer\n111111111111,ok\n222222222222,"{cell}"\n', max_length=200)
    assert [r[0] for r in table.rows] == [2]
    assert len(table.errors) == 1
    error = table.errors[0]
    assert (error.line, error.column) == (3, "customer")
    assert message in error.message
    assert str(error).startswith("Line 3, customer: ")


def test_a_cell_neutralised_by_an_export_reads_back_as_its_text():
    table = read("account_id,customer\n111111111111,'=Acme\n222222222222,'Quoted\n")
    assert [r[1]["customer"] for r in table.rows] == ["=Acme", "'Quoted"]


def test_a_row_of_the_wrong_width_is_an_error():
    table = read("account_id,customer\n111111111111\n222222222222,a,b\n")
    assert [(e.line, e.message) for e in table.errors] == [
        (2, "has 1 cells where the header has 2."),
        (3, "has 3 cells where the header has 2."),
    ]


def test_errors_past_the_cap_are_counted_not_kept():
    table = read("account_id,customer\n" + "1,=x\n" * 250)
    assert table.error_count == 250
    assert len(table.errors) == 200


def test_exports_neutralise_every_formula_cell():
    rows = [{"a": "=cmd", "b": "+1"}, {"a": "-2", "b": "@x"}, {"a": "plain", "b": None}]
    text = "".join(csv_lines(rows, [("a", lambda r: r["a"]), ("b", lambda r: r["b"])]))
    assert text.splitlines() == ["a,b", "'=cmd,'+1", "'-2,'@x", "plain,"]


def test_a_header_of_very_many_columns_is_refused_before_it_is_read():
    assert "has 20000 columns" in file_error(",".join(["a"] * 20_000) + "\n1,2\n")
    assert "repeated column(s) customer" in file_error("account_id,customer,customer\n1,2,3\n")
