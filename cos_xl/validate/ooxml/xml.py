"""Parsing one XML part, safely, and naming its elements by namespace URI.

lxml (libxml2) with entity resolution, DTD loading and network access off; a part that declares
a DOCTYPE is refused outright (the safety layer has refused such a file already: this is the
second line). Elements are named ``{uri}local`` whatever prefix a writer chose, so
``<x:worksheet xmlns:x="…">`` reads as ``<worksheet xmlns="…">``; both the transitional and the
strict SpreadsheetML namespaces are SpreadsheetML. Comments and processing instructions are
skipped by :func:`children`.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

#: SpreadsheetML main namespace: transitional (what everybody writes) and strict (ISO 29500)
MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
           "http://purl.oclc.org/ooxml/spreadsheetml/main")
#: officeDocument relationships namespace (the r:id of a <sheet>), transitional and strict
REL_NS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "http://purl.oclc.org/ooxml/officeDocument/relationships")
PACKAGE_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

_PARSER = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True,
                          huge_tree=False, remove_comments=True, remove_pis=True)

Element = etree._Element


def parse(name: str, data: bytes) -> Element:
    """The root element of a part; ValueError naming the part when it is not well-formed XML or
    declares a DOCTYPE."""
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError, LookupError) as exc:
        raise ValueError(f"{name}: not well-formed XML: {exc}") from exc
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise ValueError(f"{name}: declares DOCTYPE, refused")
    return root


def namespace(elem: Element) -> str:
    """``{uri}`` of an element ('' without a namespace)."""
    tag = elem.tag
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def local(elem: Element) -> str:
    return etree.QName(elem).localname


def main_namespace(root: Element, name: str, expected: str) -> str:
    """``{uri}`` of a SpreadsheetML part whose root must be ``expected``."""
    ns = namespace(root)
    if ns[1:-1] not in MAIN_NS or local(root) != expected:
        raise ValueError(f"{name}: root element is {root.tag!r}, not a SpreadsheetML "
                         f"<{expected}>")
    return ns


def children(elem: Element, tag: str | None = None) -> Iterator[Element]:
    """The child elements (``{uri}local`` ``tag`` only, when given)."""
    for child in elem:
        if isinstance(child.tag, str) and (tag is None or child.tag == tag):
            yield child


def relationship_id(elem: Element) -> str | None:
    """The r:id attribute, in either relationships namespace."""
    for uri in REL_NS:
        value = elem.get(f"{{{uri}}}id")
        if value is not None:
            return value
    return None


def text(elem: Element | None) -> str:
    return (elem.text or "") if elem is not None else ""
