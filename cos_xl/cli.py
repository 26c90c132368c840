"""The ``cos-xl`` command: a thin layer that parses options, calls the library and turns
library errors into short messages with exit status 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cos_xl import __version__
from cos_xl.campaign import load_campaign
from cos_xl.errors import CosXlError
from cos_xl.generate import generate as generate_round
from cos_xl.generate import write_atomically
from cos_xl.periods import Period
from cos_xl.regions import select_regions
from cos_xl.signing import resolve_key
from cos_xl.vba import wrappers

app = typer.Typer(
    name="cos-xl", no_args_is_help=True, add_completion=False,
    help="Отчётность федерального проекта «Цифровая образовательная среда» на книгах Excel.",
)
console = Console(stderr=True)


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[bold red]Ошибка:[/] {exc}")
    return typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cos-xl {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = None
         ) -> None:
    """cos-xl: generate, validate and consolidate the regional workbooks."""


def _parse_regions(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@app.command()
def generate(
    period: Annotated[str, typer.Option(help="Reporting period, e.g. 2020Q3.")],
    out: Annotated[Path, typer.Option(help="Folder for the workbooks (created if missing).")],
    regions: Annotated[Optional[str], typer.Option(
        help="Comma-separated region codes, e.g. 77,50; default: every region of the period.")
    ] = None,
    config: Annotated[Optional[Path], typer.Option(help="Campaign configuration (TOML).")] = None,
    key_file: Annotated[Optional[Path], typer.Option(
        help="File with the federal signing key (else env COS_XL_SIGNING_KEY).")] = None,
    dev_key: Annotated[bool, typer.Option(
        "--dev-key", help="Sign with the development key (never for a real campaign).")] = False,
    no_macros: Annotated[bool, typer.Option(
        "--no-macros", help="Write .xlsx without VBA (same cells; no COS_* functions).")] = False,
) -> None:
    """Generate one locked input workbook per region for a period (.xlsm by default)."""
    try:
        key = resolve_key(key_file, dev_key)
        campaign = load_campaign(config)
        parsed = Period.parse(period)
        selected = select_regions(_parse_regions(regions), parsed.year, parsed.quarter)
        if key.dev:
            console.print("[yellow]Внимание: шаблоны подписаны ключом разработчика "
                          "(development key) — не для рассылки регионам.[/]")
        with Progress(TextColumn("[bold]Шаблоны {task.fields[period]}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"),
                      console=console, transient=not sys.stderr.isatty()) as progress:
            task = progress.add_task("", total=len(selected), period=str(parsed))
            result = generate_round(
                parsed, out, key, campaign=campaign, regions=[r.code for r in selected],
                macros=not no_macros,
                on_progress=lambda region, _path: progress.update(
                    task, advance=1, description=region.code),
            )
    except CosXlError as exc:
        raise _fail(exc) from exc
    per = result.seconds / max(len(result.paths), 1) * 1000
    console.print(f"Готово: {len(result.paths)} книг(и) за {result.seconds:.2f} с "
                  f"({per:.0f} мс на книгу) в папке {result.out_dir}")


def _load_previous(path: Path) -> dict:
    import json as jsonlib
    try:
        data = jsonlib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CosXlError(f"{path}: не удалось прочитать предыдущие значения: {exc}") from exc
    if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("values", {}), dict) for v in data.values()):
        raise CosXlError(f'{path}: ожидается {{"77": {{"period": "2020Q2", "values": '
                         '{"E4.03": 41.5}}}, …}')
    return data


def _returned_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*")
                            if p.is_file() and not p.name.startswith((".", "~$")))
        elif path.is_file():
            files.append(path)
        else:
            raise CosXlError(f"Нет такого файла или папки: {path}")
    return files


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Returned workbooks or folders of them.")],
    output_format: Annotated[str, typer.Option(
        "--format", help="text (table), json (one document on stdout) or xlsx (report in --out).",
    )] = "text",
    out: Annotated[Optional[Path], typer.Option(help="Folder for the xlsx report.")] = None,
    annotate: Annotated[Optional[Path], typer.Option(
        help="Folder for annotated copies of the workbooks (the originals are not changed).")
    ] = None,
    key_file: Annotated[Optional[Path], typer.Option(
        help="File with the federal signing key (else env COS_XL_SIGNING_KEY).")] = None,
    dev_key: Annotated[bool, typer.Option(
        "--dev-key", help="Accept templates signed with the development key.")] = False,
    previous: Annotated[Optional[Path], typer.Option(
        help='JSON of previous accepted figures: {"77": {"period": "2020Q2", "values": '
             '{"E4.03": 41.5}}}; overrides those prefilled in the templates.')] = None,
) -> None:
    """Validate returned workbooks: PASS, PASS_WITH_WARNINGS or FAIL per file (exit 1 if any
    fails)."""
    import json as jsonlib

    from cos_xl.validate.report import annotate as annotate_file
    from cos_xl.validate.report import print_table, to_json, write_xlsx_report
    from cos_xl.validate.run import validate_file

    if output_format not in ("text", "json", "xlsx"):
        raise _fail(CosXlError(f"--format: ожидается text, json или xlsx, а не {output_format!r}"))
    if output_format == "xlsx" and out is None:
        raise _fail(CosXlError("--format xlsx: укажите папку отчёта --out"))
    try:
        key = resolve_key(key_file, dev_key)
        files = _returned_files(paths)
        previous_figures = _load_previous(previous) if previous else None
    except CosXlError as exc:
        raise _fail(exc) from exc
    results = []
    with Progress(TextColumn("[bold]Проверка"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.description}"), console=console,
                  transient=True) as progress:
        task = progress.add_task("", total=len(files))
        for path in files:
            results.append(validate_file(path, key, allow_dev_key=dev_key,
                                         previous=previous_figures))
            if annotate is not None:
                annotate_file(results[-1], annotate)
            progress.update(task, advance=1, description=path.name)
    if output_format == "json":
        typer.echo(jsonlib.dumps(to_json(results), ensure_ascii=False, indent=1))
    elif output_format == "xlsx":
        report = out / "validation-report.xlsx"
        write_xlsx_report(results, report)
        console.print(f"Отчёт: {report}")
    else:
        print_table(results, Console())
    if any(r.verdict == "FAIL" for r in results):
        raise typer.Exit(1)


@app.command()
def macros(
    check: Annotated[bool, typer.Option(
        "--check", help="Only verify that the files are current (exit 1 when not).")] = False,
    directory: Annotated[Optional[Path], typer.Option(
        "--dir", help="Folder of the VBA sources; default: macros/ of this checkout.")] = None,
) -> None:
    """Write the VBA sources every .xlsm carries (COS_* wrappers and xlwings' modules)."""
    folder = directory or wrappers.macros_dir()
    stale = []
    for name, data in wrappers.expected_files().items():
        path = folder / name
        if check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
        else:
            write_atomically(path, data)
    if check and stale:
        console.print(f"[red]Модули в {folder} устарели:[/] {', '.join(stale)}; выполните "
                      "cos-xl macros (the VBA sources are out of date)")
        raise typer.Exit(1)
    console.print(f"Модули VBA в {folder} {'актуальны' if check else 'записаны'}.")


@app.command("udf-selftest")
def udf_selftest(
    out: Annotated[Path, typer.Option(help="Where to write the .xlsm.")] = Path(
        "cos_udf_selftest.xlsm"),
) -> None:
    """Write a small .xlsm that shows in Excel whether the COS_* functions work there."""
    from cos_xl.template.selftest import build_selftest
    if out.suffix.lower() != ".xlsm":
        raise _fail(ValueError(f"{out}: нужен файл .xlsm (the self-test carries macros)"))
    write_atomically(out, build_selftest())
    console.print(f"Записан {out}: откройте его в Excel и посмотрите столбец «Итог».")


if __name__ == "__main__":
    app()
