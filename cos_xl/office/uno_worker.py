"""UNO worker: drives one headless LibreOffice for cos_xl.office.libreoffice.

Runs under the Python that has the ``uno`` module (Debian: /usr/bin/python3 with python3-uno),
NOT under the project's Python. It must import nothing but the standard library and ``uno``.

Protocol: one JSON object per line.
  * Start-up: ``uno_worker.py --connect "<uno connection string>" --startup-timeout SECONDS``.
    The worker retries connecting until the deadline, then writes one line
    ``{"event": "ready", "seconds": float}`` or ``{"event": "failed", "error": str}`` (and exits).
  * Requests on stdin, one answer per request on stdout, in order:
      {"id": 1, "op": "ping"}
      {"id": 2, "op": "process", "path": "/abs/file.xlsx", "set_values": [[key, value], ...],
       "read": [key, ...], "save_as": "/abs/out.xlsx" | null, "filter": "Calc MS Excel 2007 XML",
       "recalc": true, "macros": false, "allow_locked": false}
      {"id": 3, "op": "terminate"}     -- asks soffice to quit, answers, then the worker exits
    Answers: {"id": n, "ok": true, "values": {key: value, ...}} or
             {"id": n, "ok": false, "error": "message"}.
  * EOF on stdin: the worker asks soffice to quit and exits.

Keys are workbook-level defined names (``students_go``) or A1 references with a sheet
(``'Данные'!D5``, ``Данные!$D$5``, ``Данные!A1:B3``). Read values: float for numbers,
str for text (also "" for a formula returning an empty string), None for an empty cell,
{"error": "#DIV/0!"} for an error; a multi-cell range reads as a list of rows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

# Everything that is not the protocol goes to stderr, even output of C code (fd 1).
_PROTO = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr
sys.stdin.reconfigure(encoding="utf-8", errors="replace")

import uno  # noqa: E402  (after the fd juggling on purpose)
from com.sun.star.beans import PropertyValue  # noqa: E402

# com.sun.star.document.MacroExecutionMode
NEVER_EXECUTE = 0
ALWAYS_EXECUTE_NO_WARN = 4
# com.sun.star.document.UpdateDocMode
NO_UPDATE = 0
# com.sun.star.sheet.CellFlags: VALUE | DATETIME | STRING | FORMULA (keeps formats and protection)
CLEAR_CONTENT = 1 | 2 | 4 | 16
# com.sun.star.sheet.FormulaResult
RESULT_VALUE, RESULT_STRING, RESULT_ERROR = 1, 2, 4

# getError() codes -> what LibreOffice 7.4 shows in the cell (verified against real formulas).
ERROR_TEXT = {
    501: "Err:501",  # invalid character
    502: "Err:502",  # invalid argument, e.g. SQRT(-1), FACT(-1), MID("abc";-1;2); xlsx: #VALUE!
    503: "#NUM!",  # e.g. EXP(1000), 10^400
    504: "Err:504",  # error in parameter list
    507: "Err:507",  # missing pair
    508: "Err:508",  # missing bracket
    509: "Err:509",  # missing operator
    510: "Err:510",  # missing variable
    511: "Err:511",  # missing variable
    512: "Err:512",  # formula overflow
    513: "Err:513",  # string overflow
    514: "Err:514",  # internal overflow
    516: "Err:516",  # internal syntax error
    517: "Err:517",  # internal syntax error
    518: "Err:518",  # internal syntax error
    519: "#VALUE!",  # e.g. 1+"abc"
    520: "Err:520",  # internal syntax error
    521: "#NULL!",
    522: "Err:522",  # circular reference; xlsx: #VALUE!
    523: "Err:523",  # calculation does not converge
    524: "#REF!",
    525: "#NAME?",
    532: "#DIV/0!",
    32767: "#N/A",  # NA(), VLOOKUP miss
}


class RequestError(Exception):
    """A problem with one request; reported back, the worker keeps running."""


def _prop(name: str, value: object) -> PropertyValue:
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def _send(obj: dict) -> None:
    _PROTO.write(json.dumps(obj) + "\n")  # ASCII only: no locale trouble
    _PROTO.flush()


def _uno_message(exc: BaseException) -> str:
    msg = getattr(exc, "Message", None)
    if msg is None:
        msg = str(exc)
    name = type(exc).__name__
    return f"{name}: {msg}" if msg else name


class Worker:
    def __init__(self, connect: str) -> None:
        self.connect = connect
        self.ctx = None
        self.desktop = None

    # -- connection -------------------------------------------------------------------------
    def connect_until(self, deadline: float) -> None:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        last = None
        while True:
            try:
                self.ctx = resolver.resolve(f"uno:{self.connect};StarOffice.ComponentContext")
                break
            except Exception as exc:  # NoConnectException while soffice is starting
                last = exc
                if time.monotonic() >= deadline:
                    raise RequestError(
                        f"could not connect to soffice ({self.connect}): {_uno_message(last)}"
                    ) from None
                time.sleep(0.1)
        smgr = self.ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)

    def terminate(self) -> None:
        if self.desktop is not None:
            try:
                self.desktop.terminate()
            except Exception:
                pass  # soffice drops the bridge while quitting; that is expected
            self.desktop = None

    # -- references ---------------------------------------------------------------------------
    @staticmethod
    def _split_ref(key: str) -> tuple[str, str] | None:
        """'Данные'!A1 -> ("Данные", "A1"); Sheet!A1 -> ("Sheet", "A1"); name -> None."""
        if key.startswith("'"):
            i, sheet = 1, []
            while i < len(key):
                ch = key[i]
                if ch == "'":
                    if key[i + 1 : i + 2] == "'":
                        sheet.append("'")
                        i += 2
                        continue
                    break
                sheet.append(ch)
                i += 1
            rest = key[i + 1 :]
            if i >= len(key) or not rest.startswith("!"):
                raise RequestError(f"bad reference {key!r}: expected 'Sheet name'!A1")
            return "".join(sheet), rest[1:]
        if "!" in key:
            sheet, _, addr = key.rpartition("!")
            return sheet, addr
        return None

    def _resolve(self, doc, key: str):
        """Return (sheet, cell range, printable reference) for a name or an A1 reference."""
        split = self._split_ref(key)
        if split is None:
            names = doc.NamedRanges
            if not names.hasByName(key):
                raise RequestError(f"no workbook-level defined name {key!r}")
            named = names.getByName(key)
            rng = named.getReferredCells()
            if rng is None:
                raise RequestError(
                    f"defined name {key!r} does not refer to cells (content {named.getContent()!r})"
                )
        else:
            sheet_name, addr = split
            sheets = doc.Sheets
            if not sheets.hasByName(sheet_name):
                raise RequestError(
                    f"no sheet {sheet_name!r} for {key!r} (sheets: {list(sheets.ElementNames)})"
                )
            sheet = sheets.getByName(sheet_name)
            try:
                rng = sheet.getCellRangeByName(addr.replace("$", ""))
            except Exception:
                # maybe a sheet-level defined name: Sheet!name
                local = getattr(sheet, "NamedRanges", None)
                if local is not None and local.hasByName(addr):
                    rng = local.getByName(addr).getReferredCells()
                else:
                    rng = None
                if rng is None:
                    raise RequestError(f"bad cell address {addr!r} in {key!r}") from None
        ra = rng.getRangeAddress()
        sheet = doc.Sheets.getByIndex(ra.Sheet)
        return sheet, rng, self._printable(sheet.getName(), ra)

    @staticmethod
    def _col(c: int) -> str:
        s = ""
        c += 1
        while c:
            c, r = divmod(c - 1, 26)
            s = chr(65 + r) + s
        return s

    def _printable(self, sheet_name: str, ra) -> str:
        quoted = "'" + sheet_name.replace("'", "''") + "'"
        first = f"{self._col(ra.StartColumn)}{ra.StartRow + 1}"
        if ra.StartColumn == ra.EndColumn and ra.StartRow == ra.EndRow:
            return f"{quoted}!{first}"
        return f"{quoted}!{first}:{self._col(ra.EndColumn)}{ra.EndRow + 1}"

    # -- cells -------------------------------------------------------------------------------
    @staticmethod
    def _cell_value(cell):
        kind = cell.getType().value  # EMPTY VALUE TEXT FORMULA
        if kind == "EMPTY":
            return None
        if kind == "VALUE":
            return cell.getValue()
        if kind == "TEXT":
            return cell.getString()
        code = cell.getError()
        if code:
            return {"error": ERROR_TEXT.get(code) or cell.getString() or f"Err:{code}"}
        result = cell.FormulaResultType2
        if result == RESULT_STRING:
            return cell.getString()
        if result == RESULT_ERROR:  # should have had an error code; be safe
            return {"error": cell.getString() or "Err"}
        return cell.getValue()

    def _read(self, doc, key: str):
        _sheet, rng, _ref = self._resolve(doc, key)
        ra = rng.getRangeAddress()
        rows = ra.EndRow - ra.StartRow + 1
        cols = ra.EndColumn - ra.StartColumn + 1
        if rows == 1 and cols == 1:
            return self._cell_value(rng.getCellByPosition(0, 0))
        return [
            [self._cell_value(rng.getCellByPosition(c, r)) for c in range(cols)]
            for r in range(rows)
        ]

    def _set(self, doc, key: str, value, allow_locked: bool) -> None:
        sheet, rng, ref = self._resolve(doc, key)
        ra = rng.getRangeAddress()
        if ra.StartColumn != ra.EndColumn or ra.StartRow != ra.EndRow:
            raise RequestError(f"{key!r} ({ref}) is a range; set_values needs a single cell")
        cell = rng.getCellByPosition(0, 0)
        # LibreOffice's API writes into locked cells of a protected sheet without complaint,
        # so the protection a person meets in Excel/Calc is enforced here.
        if not allow_locked and sheet.isProtected() and cell.CellProtection.IsLocked:
            raise RequestError(f"cell {ref} ({key!r}) is locked on the protected sheet")
        try:
            if value is None:
                cell.clearContents(CLEAR_CONTENT)
            elif isinstance(value, dict) and isinstance(value.get("formula"), str):
                cell.setFormula(value["formula"])
            elif isinstance(value, str):
                cell.setString(value)
            elif isinstance(value, (int, float)):
                cell.setValue(float(value))
            else:
                raise RequestError(f"unsupported value {value!r} for {key!r}")
        except RequestError:
            raise
        except Exception as exc:
            raise RequestError(
                f"LibreOffice refused to set {ref} ({key!r}): {_uno_message(exc)}") from exc

    # -- one document ------------------------------------------------------------------------
    def process(self, req: dict) -> dict:
        path = req["path"]
        if not os.path.isfile(path):
            raise RequestError("file does not exist")
        macro_mode = ALWAYS_EXECUTE_NO_WARN if req.get("macros") else NEVER_EXECUTE
        props = (
            _prop("Hidden", True),
            _prop("MacroExecutionMode", macro_mode),
            _prop("UpdateDocMode", NO_UPDATE),
        )
        try:
            doc = self.desktop.loadComponentFromURL(
                uno.systemPathToFileUrl(path), "_blank", 0, props
            )
        except Exception as exc:
            raise RequestError(f"LibreOffice cannot open the file: {_uno_message(exc)}") from None
        if doc is None:
            raise RequestError("LibreOffice cannot open the file (not a readable document)")
        try:
            if not doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
                raise RequestError("the file did not open as a spreadsheet")
            allow_locked = bool(req.get("allow_locked"))
            for key, value in req.get("set_values", []):
                self._set(doc, key, value, allow_locked)
            if req.get("recalc", True):
                doc.calculateAll()
            values = {key: self._read(doc, key) for key in req.get("read", [])}
            save_as = req.get("save_as")
            if save_as:
                try:
                    doc.storeToURL(
                        uno.systemPathToFileUrl(save_as),
                        (_prop("FilterName", req["filter"]), _prop("Overwrite", True)),
                    )
                except Exception as exc:
                    raise RequestError(
                        f"cannot save as {save_as} ({req['filter']}): {_uno_message(exc)}"
                    ) from None
            return values
        finally:
            try:
                doc.close(True)
            except Exception:
                try:
                    doc.dispose()
                except Exception:
                    pass


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True, help="e.g. pipe,name=xyz;urp")
    ap.add_argument("--startup-timeout", type=float, default=60.0)
    args = ap.parse_args()

    worker = Worker(args.connect)
    t0 = time.monotonic()
    try:
        worker.connect_until(t0 + args.startup_timeout)
    except Exception as exc:
        error = str(exc) if isinstance(exc, RequestError) else _uno_message(exc)
        _send({"event": "failed", "error": error})
        return 1
    _send({"event": "ready", "seconds": round(time.monotonic() - t0, 3)})

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            op = req.get("op")
            if op == "ping":
                _send({"id": rid, "ok": True, "values": {}})
            elif op == "terminate":
                worker.terminate()
                _send({"id": rid, "ok": True, "values": {}})
                return 0
            elif op == "process":
                _send({"id": rid, "ok": True, "values": worker.process(req)})
            else:
                _send({"id": rid, "ok": False, "error": f"unknown op {op!r}"})
        except RequestError as exc:
            _send({"id": rid, "ok": False, "error": str(exc)})
        except Exception as exc:  # a UNO exception nobody expected: report, keep serving
            traceback.print_exc(file=sys.stderr)
            _send({"id": rid, "ok": False, "error": _uno_message(exc)})
    worker.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
