"""VBA stomping: a module whose compiled code (p-code) is not what its source text says.

A module stream of ``vbaProject.bin`` holds the module's compressed source after its
PerformanceCache ([MS-OVBA] 2.3.4.3): the p-code that the Office which last saved the file
compiled, in a format private to that VBA version. An Office of the same version runs the
p-code and does not read the source; any other compiles the source. So a file can carry the
very source we issued and p-code that does something else (EvilClippy does it in one command):
the source comparison (``vba-changed``) passes, yet what Excel runs is not what was compared.

The rule is oletools' ``detect_vba_stomping``, applied to each module on its own: for every
module with a PerformanceCache (MODULEOFFSET > 0) the p-code is disassembled with pcodedmp, and
every name it loads, stores, calls or jumps to and every string literal it holds must occur in
that module's source — names as words, whatever their case (VBA ignores case), strings exactly.
olevba applies the rule to all modules at once, answers yes or no, and only for a file on disk;
here a name in another module's text cannot hide a stomped module, and the finding names it.

The verdict is a function of :class:`CompiledProject` alone — the ``dir`` and ``_VBA_PROJECT``
streams and the streams of the modules with p-code — so it can be remembered by those bytes:
Excel writes the ``PROJECT`` stream anew at every save (its protection fields are encrypted with
a random seed, [MS-OVBA] 2.4.3) and LibreOffice gives the project a random ``ID``, so returns
saved by the same program share these streams but never the file's bytes.

What the check can and cannot see:

- a project without p-code (every module stream source only: the projects we issue, and those
  LibreOffice saves) has nothing that could disagree with its source — Office compiles the
  source — and is passed at once, without disassembling anything;
- p-code that pcodedmp cannot read (a VBA version it does not know, damaged data) gives no
  names and passes, and so does a project that cannot be read at all (the source comparison
  judges that one);
- a stomped module whose p-code uses only names and strings that its source also has (calls
  reordered, numbers or operators changed) passes too.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cos_xl.vba.read import decompressed, project_streams

__all__ = ["CompiledModule", "CompiledProject", "StompedModule", "compiled_project",
           "stomped_in", "stomped_modules"]

#: pcodedmp mnemonics whose first operand is a name from the source (olevba's list).
_NAMED = frozenset({"ArgsCall", "ArgsLd", "St", "Ld", "MemSt", "Label"})
_WORD = re.compile(r"\w+")
_STRING = re.compile(r'"((?:[^"\r\n]|"")*)"')
#: How pcodedmp decorates a name: brackets (``[x]``) and type characters (``x$``, ``n%``).
_DECORATION = "[]%&!#@$^?"
#: The code page assumed when the dir stream declares none (Windows' default ANSI one).
_DEFAULT_CODE_PAGE = 1252
_WIN64 = 3  # PROJECTSYSKIND
_PCODEDMP_ARGS = argparse.Namespace(verbose=False, disasmOnly=True)


@dataclass(frozen=True)
class CompiledModule:
    """A module with p-code: its whole stream (p-code, then compressed source from offset)."""

    name: str
    stream: bytes
    offset: int


@dataclass(frozen=True)
class CompiledProject:
    """All that the verdict on a project with p-code depends on."""

    sys_kind: int | None
    code_page: int
    #: the ``_VBA_PROJECT`` stream: the VBA version and the project's identifier table
    vba_project: bytes
    #: the decompressed ``dir`` stream
    dir: bytes
    modules: tuple[CompiledModule, ...]

    def key(self) -> bytes:
        """Every field, unambiguously: equal keys, equal projects."""
        parts = [struct.pack("<iI", -1 if self.sys_kind is None else self.sys_kind,
                             self.code_page), self.vba_project, self.dir]
        for module in self.modules:
            parts += [module.name.encode("utf-8"), struct.pack("<I", module.offset),
                      module.stream]
        return b"".join(struct.pack("<I", len(part)) + part for part in parts)


@dataclass(frozen=True)
class StompedModule:
    """A module whose p-code disagrees with its source."""

    name: str
    #: what the p-code names that the source does not have: names as they are, strings quoted
    unmatched: tuple[str, ...]


def stomped_modules(vba: bytes) -> tuple[StompedModule, ...]:
    """The modules of a ``vbaProject.bin`` whose p-code names or strings are not in their
    source, in the order the project declares them; ``()`` when every module agrees, none has
    p-code, or the project cannot be read."""
    project = compiled_project(vba)
    return () if project is None else stomped_in(project)


def compiled_project(vba: bytes) -> CompiledProject | None:
    """The parts of a ``vbaProject.bin`` the verdict depends on; None when no module has
    p-code (nothing to compare: Office compiles the source) or the project cannot be read."""
    found = project_streams(vba)
    if found is None:  # not a project one can read: nothing to compare; the sources decide
        return None
    streams = dict(found.streams)
    compiled = tuple(CompiledModule(m.name, streams[m.name], m.offset)
                     for m in found.project.modules if m.offset > 0)
    if not compiled or not found.vba_project:
        return None
    return CompiledProject(found.project.sys_kind,
                           found.project.code_page or _DEFAULT_CODE_PAGE, found.vba_project,
                           found.dir_data, compiled)


def stomped_in(project: CompiledProject) -> tuple[StompedModule, ...]:
    """The modules of ``project`` whose p-code names or strings are not in their source."""
    from oletools.common.codepages import codepage2codec

    codec = codepage2codec(project.code_page)
    out = []
    for module, instructions in zip(project.modules, _disassembly(project, codec)):
        source = decompressed(module.stream[module.offset:]).decode(codec, errors="replace")
        unmatched = _unmatched(instructions, source)
        if unmatched:
            out.append(StompedModule(module.name, unmatched))
    return tuple(out)


def _disassembly(project: CompiledProject, codec: str) -> list[list[str]]:
    """pcodedmp's instructions of each module, one per line, as it prints them."""
    from pcodedmp import pcodedmp

    # pcodedmp decodes names and strings with a module-level codec, which it would set from a
    # dir stream it parsed itself: set it here, so that no earlier project leaks in.
    pcodedmp.codec = codec
    out = []
    # pcodedmp reports on stderr what it cannot read (an identifier table, a damaged module)
    with contextlib.redirect_stderr(io.StringIO()):
        identifiers = pcodedmp.getTheIdentifiers(project.vba_project)
        for module in project.modules:
            listing = io.StringIO()
            pcodedmp.pcodeDump(module.stream, project.vba_project, project.dir, identifiers,
                               project.sys_kind == _WIN64, _PCODEDMP_ARGS, output_file=listing)
            out.append([line[1:] for line in listing.getvalue().splitlines()
                        if line.startswith("\t")])
    return out


def _unmatched(instructions: Sequence[str], source: str) -> tuple[str, ...]:
    """Names and string literals of the p-code that the source lacks, in p-code order."""
    words = {word.casefold() for word in _WORD.findall(source)}
    literals = {text.replace('""', '"') for text in _STRING.findall(source)}
    folded = source.casefold()
    out: dict[str, None] = {}
    for instruction in instructions:
        mnemonic, _, operands = instruction.strip().partition(" ")
        operands = operands.strip()
        if mnemonic in _NAMED:
            operands = operands.removeprefix("(Call) ")
            name = operands.split(None, 1)[0].strip(_DECORATION) if operands else ""
            # id_XXXX: an identifier pcodedmp cannot name (e.g. ``Me``; no identifier table)
            if not name or name.startswith("id_"):
                continue
            if _WORD.fullmatch(name):
                if name.casefold() not in words:
                    out[name] = None
            elif name.casefold() not in folded:
                out[name] = None
        elif mnemonic == "LitStr":
            _, _, literal = operands.partition(" ")  # after the length, 0x0005
            if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
                continue
            text = literal[1:-1]
            # as olevba: pcodedmp shows "" inside a string as one "
            if text not in literals and '"' + text.replace('"', '""') + '"' not in source:
                out[literal] = None
    return tuple(out)
