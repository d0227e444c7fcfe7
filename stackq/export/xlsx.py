"""The XLSX report: XlsxWriter in constant-memory mode, one typed row at a time."""

from datetime import datetime

import xlsxwriter

from .formats import COLUMNS

WIDTHS = {
    "question_id": 11, "title": 70, "link": 45, "score": 7, "answers": 8, "views": 9,
    "answered": 9, "accepted_answer_id": 12, "tags": 30, "owner": 22, "created": 17,
    "last_activity": 17, "closed_reason": 18, "body": 80,
}
# A cell holds at most this many characters (Excel's limit): a longer body is cut there.
CELL_LIMIT = 32767
# Nothing from upstream ever becomes a formula, a number or a link by itself.
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


def write_xlsx(rows, out):
    """A sheet of results: bold frozen header, autofilter, widths, typed cells.

    Numbers are numbers, dates are dates (UTC), links are HYPERLINK formulas, and every
    text from upstream is a string cell, whatever it starts with.
    """
    workbook = xlsxwriter.Workbook(out, WORKBOOK_OPTIONS)
    sheet = workbook.add_worksheet("results")
    header = workbook.add_format({"bold": True})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for col, name in enumerate(COLUMNS):
        sheet.set_column(col, col, WIDTHS[name])
        sheet.write_string(0, col, name, header)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(rows, start=1):
        for col, name in enumerate(COLUMNS):
            write_cell(sheet, count, col, row[name], moment, is_link=name == "link")
    sheet.autofilter(0, 0, max(count, 1), len(COLUMNS) - 1)
    workbook.close()
    return count


def hyperlink_formula(url):
    """`=HYPERLINK("url","url")`: a link Excel follows, the URL shown before any recalculation.

    Not write_url(): XlsxWriter keeps every sheet link in memory until the file is closed
    (about 0.8 KB each, even in constant-memory mode), and Excel allows 65,530 of them a
    sheet. A formula per row costs nothing and has no such limit.
    """
    quoted = url.replace('"', '""')
    return f'=HYPERLINK("{quoted}","{quoted}")'


def write_cell(sheet, row, col, value, moment, is_link):
    if value is None:
        return  # an empty cell
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int):
        sheet.write_number(row, col, value)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value, moment)
    elif isinstance(value, list):
        sheet.write_string(row, col, ";".join(value))
    elif is_link:
        sheet.write_formula(row, col, hyperlink_formula(value), None, value)
    else:
        sheet.write_string(row, col, value[:CELL_LIMIT])
