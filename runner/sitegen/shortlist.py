"""The pilot shortlist: a reader's constraints in, the statistically tied top set and a dossier out.

Python computes everything a model brings to the page, in one typed payload
(`payloads.ShortlistPayload`): its licence class, the GPU memory it needs at each precision, each
track's average and 95% interval, its flag. `site/assets/shortlist.js` only filters by the
reader's constraints, ranks what remains by the intervals (the same rule as the leaderboard's
rank ranges) and renders; the dossier of a listed model is a Markdown and an HTML section
rendered here (`dossier`), written to `data/dossier/<key>.json` and fetched for the models
listed (ARCHITECTURE.md, "The site").

The rules, stated on the page and in About:
- licence: an open licence (`OPEN_LICENCES`) allows commercial use; a custom licence
  (`CUSTOM_LICENCES`: Llama, Gemma, OpenRAIL, ...) allows it under its own conditions, named,
  and counts only when the reader asks for it; a non-commercial one (`-nc`, research-only)
  never; any other id ("other") is unknown: read the model card;
- memory: weights (parameters x bytes per parameter at the precision) plus `OVERHEAD` for
  activations, KV cache and the CUDA context, in GiB (2^30 bytes, as GPU memory is counted).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

from runner.results_schema import Track
from runner.sitegen.dossier import dossier_sections
from runner.sitegen.entries import ModelEntry
from runner.sitegen.payloads import (
    LicenceClass,
    ShortlistModel,
    ShortlistPayload,
    ShortlistTrack,
)

OVERHEAD = 0.20  # share of the weights' size added for activations, KV cache, CUDA context
GIB = 2**30
BYTES_PER_PARAMETER = {"float32": 4, "bfloat16": 2, "float16": 2}

OPEN_LICENCES = frozenset(
    (
        "apache-2.0",
        "mit",
        "bsd",
        "bsd-2-clause",
        "bsd-3-clause",
        "bsd-3-clause-clear",
        "isc",
        "cc0-1.0",
        "cc-by-2.0",
        "cc-by-2.5",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "unlicense",
        "mpl-2.0",
        "gpl-2.0",
        "gpl-3.0",
        "lgpl-2.1",
        "lgpl-3.0",
        "agpl-3.0",
        "afl-3.0",
        "artistic-2.0",
        "ecl-2.0",
        "epl-2.0",
        "bsl-1.0",
        "zlib",
        "postgresql",
        "wtfpl",
        "odc-by",
        "pddl",
        "cdla-permissive-2.0",
        "ms-pl",
        "ncsa",
        "ofl-1.1",
    )
)
_LLAMA = (
    "Meta's community licence: commercial use allowed, except for services above 700 million "
    "monthly active users, under its acceptable-use policy"
)
_GEMMA = "Google's terms: commercial use allowed under its prohibited-use policy"
_RAIL = (
    "a Responsible AI licence: commercial use allowed under its use restrictions, which in "
    "BigScience's RAIL licences include providing medical advice and interpreting medical results"
)
CUSTOM_LICENCES = {
    **{name: _LLAMA for name in ("llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4")},
    "gemma": _GEMMA,
    "health-ai-developer-foundations": "Google's Health AI Developer Foundations terms: "
    "commercial use allowed under its prohibited-use policy",
    **{
        name: _RAIL
        for name in (
            "openrail",
            "openrail++",
            "bigscience-openrail-m",
            "bigscience-bloom-rail-1.0",
            "creativeml-openrail-m",
            "bigcode-openrail-m",
        )
    },
    "deepseek": "DeepSeek's licence: commercial use allowed under its use restrictions",
}
_NON_COMMERCIAL = re.compile(r"(^|-)nc(-|$)|noncommercial|non-commercial|research")


def licence_class(licence: str | None) -> tuple[LicenceClass, str]:
    """The class of a Hub licence id and the sentence the page shows for it."""
    name = (licence or "").strip().lower()
    if name in OPEN_LICENCES:
        return "open", "an open licence: commercial use allowed"
    if name in CUSTOM_LICENCES:
        return "custom", CUSTOM_LICENCES[name]
    if _NON_COMMERCIAL.search(name):
        return "non-commercial", "non-commercial or research use only"
    if not name:
        return "unknown", "no licence on record: read the model card"
    return "unknown", f"“{name}”: not a licence this site classifies; read the model card"


def memory_gib(params: int | None) -> dict[str, float]:
    """GPU memory per precision: parameters x bytes per parameter x (1 + OVERHEAD), in GiB."""
    if not params:
        return {}
    return {
        precision: round(params * size * (1 + OVERHEAD) / GIB, 2)
        for precision, size in BYTES_PER_PARAMETER.items()
    }


def shortlist_tracks(entry: ModelEntry) -> dict[Track, ShortlistTrack]:
    """The tracks on which the model has a complete nine-task average: loglik when it is ranked
    on the leaderboard, cot when its cot track ran all nine tasks in full."""
    tracks: dict[Track, ShortlistTrack] = {}
    if entry.average is not None and entry.place is not None:
        average = entry.average
        tracks["loglik"] = ShortlistTrack(average=average.value, low=average.low, high=average.high)
    cot = entry.result.cot
    if (
        cot is not None
        and cot.average is not None
        and cot.average_ci95 is not None
        and entry.result.run.limit is None
    ):
        low, high = cot.average_ci95
        tracks["cot"] = ShortlistTrack(average=cot.average, low=low, high=high)
    return tracks


def shortlist_payload(entries: list[ModelEntry], advisory: tuple[str, str]) -> ShortlistPayload:
    models = []
    for entry in entries:
        tracks = shortlist_tracks(entry)
        if not tracks:
            continue
        kind, note = licence_class(entry.license)
        models.append(
            ShortlistModel(
                key=entry.key,
                model_id=entry.model_id,
                licence=entry.license or "",
                licence_class=kind,
                licence_note=note,
                params=entry.params,
                memory_gib=memory_gib(entry.params),
                evaluated_precision=entry.result.model.precision,
                flagged=entry.flag is not None,
                tracks=tracks,
            )
        )
    return ShortlistPayload(
        overhead=OVERHEAD,
        bytes_per_parameter=BYTES_PER_PARAMETER,
        advisory_title=advisory[0],
        advisory=advisory[1],
        models=models,
    )


def advisory_text(rendered: str) -> tuple[str, str]:
    """Title and body of the rendered `_advisory.md.j2` admonition, as plain text."""
    lines = [line for line in rendered.splitlines() if line.strip()]
    title = re.search(r'"(.*)"', lines[0])
    body = " ".join(line.strip() for line in lines[1:])
    return (title.group(1) if title else "Advisory"), body


def results_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def dossier_files(
    entries: list[ModelEntry], paths: Mapping[str, Path], payload: ShortlistPayload
) -> dict[str, str]:
    """`data/dossier/<key>.json` for every model the shortlist can list: its Markdown and HTML
    dossier sections, with the sha256 of its results file as published."""
    listed = {m.key: m for m in payload.models}
    files = {}
    for entry in entries:
        model = listed.get(entry.key)
        if model is None:
            continue
        sections = dossier_sections(entry, model.licence_note, results_sha256(paths[entry.key]))
        files[f"data/dossier/{entry.key}.json"] = sections.model_dump_json() + "\n"
    return files


def render_shortlist(site, env, entries: list[ModelEntry], paths: Mapping[str, Path]) -> None:
    """The shortlist page (`shortlist.md.j2` with the payload) and the dossier sections, added to
    `site` (a `pages.RenderedSite`)."""
    advisory = advisory_text(env.get_template("_advisory.md.j2").render())
    payload = shortlist_payload(entries, advisory)
    site.files.update(dossier_files(entries, paths, payload))
    site.add_page(
        "shortlist.md",
        env.get_template("shortlist.md.j2").render(
            root="../",
            payload=payload.to_json(),
            overhead=round(100 * OVERHEAD),
            precisions=list(BYTES_PER_PARAMETER),
            bytes_per_parameter=BYTES_PER_PARAMETER,
            custom_licences=sorted(set(CUSTOM_LICENCES.values())),
            count=len(payload.models),
        ),
    )
