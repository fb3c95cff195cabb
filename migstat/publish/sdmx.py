"""SDMX files of a dataset, written with pysdmx: SDMX-ML 3.0 structures (code lists, concepts,
data structure definition, dataflow) and SDMX-CSV 2.0 data.

pysdmx keeps one name per item and labels it ``xml:lang="en"`` (checked in pysdmx 1.21: its
writer has one ``Name`` per nameable artefact, its reader keeps the English one). The model is
built with the Spanish names and the English name in an annotation of type ``NAME_EN`` on every
code, concept, code list, structure and dataflow; the written XML then carries both names as
SDMX intends, ``<com:Name xml:lang="es">`` followed by ``<com:Name xml:lang="en">`` (the
annotation stays, for readers of the earlier files). Observation flags are the ``OBS_STATUS``
attribute, never in the value.
"""

from __future__ import annotations

import csv
from pathlib import Path

from lxml import etree
from pysdmx.io import write_sdmx
from pysdmx.io.format import Format
from pysdmx.model import (
    Code,
    Codelist,
    Component,
    Components,
    Concept,
    ConceptScheme,
    Dataflow,
    DataStructureDefinition,
    DataType,
    Role,
)
from pysdmx.model.__base import Annotation

from migstat.publish.data import Warehouse
from migstat.publish.datasets import (
    AGENCY,
    ATTRIBUTES,
    CHUNK_ROWS,
    MEASURE,
    VERSION,
    Dataset,
    Label,
    as_text,
    csv_lines,
    flag_codes,
    observations,
)
from migstat.publish.datasets import Code as DatasetCode

NAME_EN = "NAME_EN"


def _en(label: Label) -> tuple[Annotation, ...]:
    return (Annotation(type=NAME_EN, text=label.en),)


def _codelist(list_id: str, name: Label, codes: list[DatasetCode]) -> Codelist:
    return Codelist(
        id=list_id,
        name=name.es,
        agency=AGENCY,
        version=VERSION,
        items=[Code(id=c.id, name=c.name.es, annotations=_en(c.name)) for c in codes],
        annotations=_en(name),
    )


def _concept(scheme: str, concept_id: str, name: Label) -> Concept:
    urn = (
        "urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept="
        f"{AGENCY}:{scheme}({VERSION}).{concept_id}"
    )
    return Concept(id=concept_id, name=name.es, urn=urn, annotations=_en(name))


def structures(dataset: Dataset) -> tuple[Codelist | ConceptScheme | DataStructureDefinition, ...]:
    """Code lists, concept scheme and data structure definition of a dataset (the objects
    pysdmx writes in the structure message and validates data against)."""
    prefix = dataset.id.upper()
    concepts: list[Concept] = []
    components: list[Component] = []
    lists: list[Codelist] = []
    for dim in dataset.dimensions:
        codelist = _codelist(f"CL_{prefix}_{dim.id}", dim.name, dim.codes)
        lists.append(codelist)
        concept = _concept(f"CS_{prefix}", dim.id, dim.name)
        concepts.append(concept)
        components.append(
            Component(
                id=dim.id,
                required=True,
                role=Role.DIMENSION,
                concept=concept,
                local_dtype=DataType.STRING,
                local_codes=codelist,
            )
        )
    value = Label("Valor", "Value")
    concept = _concept(f"CS_{prefix}", MEASURE, value)
    concepts.append(concept)
    components.append(
        Component(
            id=MEASURE,
            required=False,
            role=Role.MEASURE,
            concept=concept,
            local_dtype=DataType.DOUBLE,
        )
    )
    coded = {
        "OBS_STATUS": _codelist(f"CL_{prefix}_OBS_STATUS", ATTRIBUTES["OBS_STATUS"], flag_codes()),
        "UNIT_MEASURE": _codelist(
            f"CL_{prefix}_UNIT_MEASURE", ATTRIBUTES["UNIT_MEASURE"], dataset.unit_codes()
        ),
    }
    lists += coded.values()
    # Attached to the full key (each observation). The SDMX 3.0 measure relationship ("O")
    # is not read by sdmx1, the independent reader the tests use; the full key means the same.
    attached = ",".join(d.id for d in dataset.dimensions)
    for attr_id, name in ATTRIBUTES.items():
        concept = _concept(f"CS_{prefix}", attr_id, name)
        concepts.append(concept)
        components.append(
            Component(
                id=attr_id,
                required=attr_id == "UNIT_MEASURE",
                role=Role.ATTRIBUTE,
                concept=concept,
                local_dtype=DataType.STRING,
                local_codes=coded.get(attr_id),
                attachment_level=attached,
            )
        )
    scheme = ConceptScheme(
        id=f"CS_{prefix}",
        name=f"Conceptos: {dataset.name.es}",
        agency=AGENCY,
        version=VERSION,
        items=concepts,
        annotations=_en(Label("", f"Concepts: {dataset.name.en}")),
    )
    dsd = DataStructureDefinition(
        id=dataset.dsd_id,
        name=dataset.name.es,
        description=dataset.description.es,
        agency=AGENCY,
        version=VERSION,
        components=Components(components),
        annotations=_en(dataset.name),
    )
    return (*lists, scheme, dsd)


def dataflow(dataset: Dataset, dsd: DataStructureDefinition) -> Dataflow:
    return Dataflow(
        id=dataset.dataflow_id,
        name=dataset.name.es,
        description=dataset.description.es,
        agency=AGENCY,
        version=VERSION,
        structure=dsd,
        annotations=_en(dataset.name),
    )


COMMON_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/common"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _bilingual(xml: str) -> str:
    """Spanish names and descriptions labelled ``es`` (pysdmx labels every one ``en``), and after
    each Spanish name the English one from the item's ``NAME_EN`` annotation."""
    for tag in ("Name", "Description"):
        xml = xml.replace(f'<com:{tag} xml:lang="en">', f'<com:{tag} xml:lang="es">')
    root = etree.fromstring(xml.encode("utf-8"))
    com = f"{{{COMMON_NS}}}"
    for annotation in root.iter(f"{com}Annotation"):
        kind = annotation.find(f"{com}AnnotationType")
        text = annotation.find(f"{com}AnnotationText")
        if kind is None or kind.text != NAME_EN or text is None or not text.text:
            continue
        item = annotation.getparent().getparent()  # Annotation -> Annotations -> the item
        names = item.findall(f"{com}Name")
        if not names or any(name.get(XML_LANG) == "en" for name in names):
            continue
        english = etree.Element(f"{com}Name", {XML_LANG: "en"})
        english.text = text.text
        previous = names[-1].getprevious()
        english.tail = names[-1].tail
        names[-1].tail = previous.tail if previous is not None else names[-1].tail
        names[-1].addnext(english)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def write_structure(dataset: Dataset, path: Path) -> Path:
    objects = structures(dataset)
    dsd = objects[-1]
    assert isinstance(dsd, DataStructureDefinition)
    path.parent.mkdir(parents=True, exist_ok=True)
    xml = write_sdmx(
        [*objects, dataflow(dataset, dsd)], Format.STRUCTURE_SDMX_ML_3_0, prettyprint=True
    )
    assert xml is not None
    path.write_text(_bilingual(xml), encoding="utf-8")
    return path


def write_data_csv(
    warehouse: Warehouse, dataset: Dataset, path: Path, chunk_rows: int = CHUNK_ROWS
) -> Path:
    """SDMX-CSV 2.0 data (one line per observation, in key order), streamed from the warehouse
    a chunk at a time. Written as pysdmx's SDMX-CSV 2.0 writer writes a whole dataset (the
    same columns, texts and quoting; a test compares both), but without holding the dataset
    in memory: a table of tens of millions of cells does not fit in a pandas frame. When no
    field needs quotes and every value is whole (:func:`as_text`), DuckDB makes the lines and
    they are copied to the file as bytes (:func:`csv_lines`); else ``csv.writer`` writes them."""
    columns = [d.id for d in dataset.dimensions]
    structure = ["datastructure", f"{AGENCY}:{dataset.dsd_id}({VERSION})", "I"]
    path.parent.mkdir(parents=True, exist_ok=True)
    if as_text(dataset):
        header = ",".join(["STRUCTURE", "STRUCTURE_ID", "ACTION", *columns, MEASURE, *ATTRIBUTES])
        with path.open("wb") as binary:
            binary.write((header + "\n").encode("utf-8"))
            for views in csv_lines(warehouse, dataset, chunk_rows):
                binary.writelines(views)
        return path
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["STRUCTURE", "STRUCTURE_ID", "ACTION", *columns, MEASURE, *ATTRIBUTES])
        for chunk in observations(warehouse, dataset, chunk_rows):
            writer.writerows(
                [
                    *structure,
                    *obs.key,
                    "" if obs.value is None else str(obs.value),
                    obs.flag or "",
                    obs.unit,
                    obs.note or "",
                ]
                for obs in chunk
            )
    return path
