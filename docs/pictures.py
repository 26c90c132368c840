"""The README's pictures, rendered by LibreOffice from a real demo round: what a region sees.

    .venv/bin/python docs/pictures.py [--out docs/img]

Runs the demo round into a temporary folder, takes a region's return with a typical mistake,
validates and annotates it as ``cos-xl validate --annotate`` does, and prints single sheets
(and those of an accepted return, of the validation report, of a region's rollup «Свод по МО»
and of a municipality's title sheet) to PNG: LibreOffice headless prints the annotated copy to PDF, ``pdftoppm`` turns the page of a
sheet (found by its text) into a PNG cropped to the text.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cos_xl.demo.round import run_demo
from cos_xl.demo.units_round import run_units_demo
from cos_xl.office import find_soffice
from cos_xl.signing import resolve_key
from cos_xl.validate.annotate import annotate
from cos_xl.validate.run import validate_file

REGION = "74"  # the demo's region that typed a number with spaces (seed 0)
CLEAN = "77"  # a region whose return is accepted
DPI = 110


def to_pdf(workbook: Path, scratch: Path) -> Path:
    """The workbook as LibreOffice prints it: every visible sheet, in order."""
    soffice = find_soffice()
    if soffice is None or shutil.which("pdftoppm") is None:
        raise SystemExit("нужны LibreOffice (soffice) и poppler-utils (pdftoppm)")
    profile = (scratch / "profile").as_uri()
    subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={profile}",
                    "--convert-to", "pdf", "--outdir", str(scratch), str(workbook)],
                   check=True, capture_output=True, timeout=180)
    return scratch / f"{workbook.stem}.pdf"


def render_page(pdf: Path, marker: str, target: Path) -> Path:
    """``target`` (PNG): the first page of ``pdf`` whose text has ``marker``, cropped to its
    text with a small margin."""
    pages = _words(pdf)
    number = next((n for n, words in enumerate(pages, start=1)
                   if marker in " ".join(w for w, _ in words)), None)
    if number is None:
        raise SystemExit(f"{pdf.name}: no page shows {marker!r}")
    boxes = [box for _, box in pages[number - 1]]
    top = max(min(b[1] for b in boxes) - 12, 0)
    bottom = max(b[3] for b in boxes) + 14
    left = max(min(b[0] for b in boxes) - 12, 0)
    scale = DPI / 72
    base = target.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", str(number), "-l", str(number),
                    "-singlefile", "-x", str(int(left * scale)), "-y", str(int(top * scale)),
                    "-W", str(int((max(b[2] for b in boxes) + 14 - left) * scale)),
                    "-H", str(int((bottom - top) * scale)), str(pdf), str(base)],
                   check=True, timeout=60)
    return target


def _words(pdf: Path) -> list[list[tuple[str, tuple[float, float, float, float]]]]:
    """Per page, each word with its box (xMin, yMin, xMax, yMax) in points."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    pages: list[list] = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("<page"):
            pages.append([])
        elif line.startswith("<word"):
            attrs = dict(part.split("=", 1) for part in line[5:line.index(">")].split())
            box = tuple(float(attrs[k].strip('"')) for k in ("xMin", "yMin", "xMax", "yMax"))
            word = line[line.index(">") + 1:line.rindex("</word>")]
            pages[-1].append((word, box))
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "img")
    args = parser.parse_args(argv)
    key = resolve_key(None, dev_key=True, env={})
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        run_demo(scratch / "demo")
        returned = scratch / "demo" / "returns" / f"cos_2020Q3_{REGION}.xlsm"
        result = validate_file(returned, key, allow_dev_key=True)
        copy = annotate(result, scratch / "back", key)
        args.out.mkdir(parents=True, exist_ok=True)
        pdf = to_pdf(copy, scratch)
        clean = to_pdf(scratch / "demo" / "returns" / f"cos_2020Q3_{CLEAN}.xlsm", scratch)
        report = to_pdf(scratch / "demo" / "reports" / "validation-report.xlsx", scratch)
        pictures = [
            render_page(pdf, "Замечания по итогам проверки", args.out / "zamechaniya.png"),
            render_page(pdf, "Заполните жёлтые ячейки: целые", args.out / "data-annotated.png"),
            render_page(clean, "Показатели (рассчитываются", args.out / "indicators.png"),
            render_page(clean, "Как заполнить", args.out / "instructions.png"),
            render_page(report, "Сообщение", args.out / "validation-report.png"),
        ]
        units = run_units_demo(scratch / "units")
        rolled = to_pdf(units.result.path, scratch)
        unit_book = to_pdf(units.paths["Шаблоны МО"] / f"cos_2020Q3_77_{units.units[0].unit_id}.xlsm",
                           scratch)
        pictures += [
            render_page(rolled, "Свод отчётов муниципальных", args.out / "svod-po-mo.png"),
            render_page(unit_book, "Код МО / организации", args.out / "unit-title.png"),
        ]
    for picture in pictures:
        print(picture)
    return 0


if __name__ == "__main__":
    sys.exit(main())
