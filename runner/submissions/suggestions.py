"""What to write instead: the advice behind each schema message of `medlb validate`.

Each function takes what the author wrote (the parsed value, and where it matters the text as
written, `raw`) and returns the reason shown after the field name: what is wrong and what to
write. Anything quoted back from the file is either checked first (a Hub id, a hex SHA, an email
address of plain characters) or cut and repr-quoted by `shorten`, so a message stays one short
line whatever the input (ARCHITECTURE.md, "Submissions").
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from runner.precision import PRECISION_ALIASES, PRECISIONS
from runner.untrusted_text import shorten

# `runner.submissions.schema` imports this module, so the functions below import its names
# (MODEL_TYPES, COMMIT_SHA, check_hub_id) when they run.

_HEX = re.compile(r"[0-9a-fA-F]+")
_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_ARXIV_ID = re.compile(r"(?:arxiv:\s*)?(\d{4}\.\d{4,5}(?:v\d+)?)", re.IGNORECASE)
_DOI = re.compile(r"(?:doi:\s*)?(10\.\d{4,9}/[A-Za-z0-9._;()/:-]{1,200})", re.IGNORECASE)
_HUB_HOSTS = ("huggingface.co", "www.huggingface.co", "hf.co")
PRECISION_FIX = "the dtype the weights are stored in, `torch_dtype` in config.json"


def _normal(text: str) -> str:
    """Lowercase, without separators: `Model-Type`, `model_type` and `modeltype` compare equal."""
    return re.sub(r"[\s_.-]+", "", text.lower())


# ---- field names ----------------------------------------------------------------------------

# Field names people write for ours (normalised with `_normal`).
FIELD_ALIASES: dict[str, str] = {
    **dict.fromkeys(("modelid", "modelname", "repo", "repoid", "hubid", "name", "id"), "model"),
    **dict.fromkeys(("commit", "sha", "commitsha", "commitid", "hash", "rev"), "revision"),
    **dict.fromkeys(("dtype", "torchdtype", "weightdtype", "weighttype"), "precision"),
    **dict.fromkeys(("type", "kind", "modelkind", "training"), "model_type"),
    **dict.fromkeys(
        ("base", "parent", "parentmodel", "finetunedfrom", "basemodelid"),
        "base_model",
    ),
    **dict.fromkeys(("licence", "licensename", "licenseid"), "license"),
    **dict.fromkeys(("desc", "about", "summary", "modeldescription"), "description"),
    **dict.fromkeys(("paperurl", "arxiv", "papers", "publication", "report"), "paper"),
    **dict.fromkeys(("email", "mail", "contacts", "maintainer"), "contact"),
}
# Fields that are refused on purpose, with the reason (a submitter states only what they know).
REFUSED_FIELDS: dict[str, str] = {
    "trustremotecode": (
        "custom code never runs here: every model is loaded with trust_remote_code=False, so it "
        "must load with transformers' own classes; remove this line"
    ),
    **dict.fromkeys(
        ("params", "parameters", "numparameters", "numparams", "nparams", "parametercount"),
        "the leaderboard counts the parameters from the model's safetensors headers on the Hub; "
        "remove this line",
    ),
    **dict.fromkeys(
        ("architecture", "architectures", "vocabsize", "maxlength", "contextlength"),
        "the leaderboard reads it from the model's config.json on the Hub; remove this line",
    ),
    **dict.fromkeys(
        ("adapter", "peft", "lora", "adapterof"),
        "adapters are not evaluated: merge the adapter into the weights, upload that model and "
        "submit it; remove this line",
    ),
    **dict.fromkeys(
        ("tasks", "benchmarks"), "every model runs on all nine tasks; remove this line"
    ),
}


def unknown_field(key: str, fields: tuple[str, ...], present: dict[str, int]) -> tuple[str, str]:
    """(reason, the field it stands for or "") for a key that is not a field; `present` maps the
    fields the file has to their lines."""
    shown = shorten(key, 30)
    normal = _normal(key)
    if normal in REFUSED_FIELDS:
        return f"unknown field {shown}: {REFUSED_FIELDS[normal]}", ""
    meant = FIELD_ALIASES.get(normal) or next((f for f in fields if _normal(f) == normal), None)
    if meant is None:
        close = difflib.get_close_matches(normal, [_normal(f) for f in fields], n=1, cutoff=0.75)
        meant = next((f for f in fields if close and _normal(f) == close[0]), None)
    if meant is None:
        return f"unknown field {shown} (allowed: {', '.join(fields)}); remove it", ""
    if meant in present:
        return (
            f"unknown field {shown}; `{meant}` is already on line {present[meant]}: remove this "
            "line",
            "",
        )
    return f"unknown field {shown}; did you mean `{meant}`? Rename the key to `{meant}`", meant


def missing_field(field: str) -> str:
    from runner.submissions.schema import MODEL_TYPES

    what = {
        "model": "`model: <org>/<name>`, the model's Hub id",
        "revision": "`revision: <the 40-character commit SHA>` (Hub: Files and versions → "
        "History → copy the full commit id)",
        "precision": f"`precision: bfloat16`, `float16` or `float32`: {PRECISION_FIX}",
        "model_type": f"`model_type:` with one of {', '.join(MODEL_TYPES)}",
        "license": "`license:` with the Hub license id from the model card, e.g. apache-2.0",
        "description": "`description:` with what the model is and what it was trained on "
        "(10 to 2000 characters)",
    }.get(field, f"`{field}:`")
    return f"{field}: required field is missing; add {what}"


# ---- values of the wrong YAML type ---------------------------------------------------------


def wrong_type(field: str, value: Any, expected: str) -> str:
    """`field` holds a list, mapping, number, boolean or nothing where text was expected."""
    if value is None:
        return f"{field}: is empty; write {expected} after the colon"
    if isinstance(value, bool):
        kind, fix = "a boolean (yes/no/on/off/true/false)", "put the value in quotes"
    elif isinstance(value, int | float):
        kind, fix = "a number", "put the value in quotes"
    elif isinstance(value, list):
        kind, fix = "a list", "write one value, without `[ ]` or `- `"
    else:
        kind, fix = "a nested mapping", "write the value on the key's line, quoted if it has `: `"
    return f"{field}: must be {expected}, but YAML read {kind}; {fix}"


# ---- one function per field ----------------------------------------------------------------


def hub_id(field: str, value: str, problem: str) -> str:
    """`model` / `base_model`: `problem` is `check_hub_id`'s reason; say what to write."""
    text = value.strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.hostname in _HUB_HOSTS and ("/" in text or "://" in text):
        path = [p for p in parts.path.split("/") if p]
        if path[:1] in (["datasets"], ["spaces"]):
            return f"{field}: {shorten(value)} is a {path[0][:-1]} URL; write a model's Hub id"
        candidate = "/".join(path[:2])
        # The URL itself is not quoted: cut short, it would read as another model's id.
        if _valid_hub_id(candidate):
            return f"{field}: write the bare Hub id `{candidate}` instead of the model's URL"
        return f"{field}: write the bare Hub id `org/name` instead of a URL"
    if "@" in text:
        before = text.split("@", 1)[0]
        shown = f"`{field}: {before}`" if _valid_hub_id(before) else f"`{field}: org/name`"
        return f"{field}: the revision goes in `revision`, not after `@`; write {shown}"
    if text != value and _valid_hub_id(text):
        return f"{field}: remove the spaces around the id; write `{field}: {text}`"
    if "non-ASCII" in problem:
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        guess = f" (perhaps `{folded}`)" if folded != text and _valid_hub_id(folded) else ""
        return (
            f"{field}: {problem}; Hub ids are ASCII letters, digits, '-', '_' and '.': copy the "
            f"id from the model page's URL, huggingface.co/<org>/<name>{guess}"
        )
    if "/" not in text and "must be `org/name`" in problem:
        return (
            f"{field}: {problem}: write the full Hub id `<org>/{_id_part(text)}`, as in "
            "huggingface.co/<org>/<name>"
        )
    return f"{field}: {problem}"


def _valid_hub_id(text: str) -> bool:
    from runner.submissions.schema import check_hub_id

    try:
        check_hub_id(text)
    except ValueError:
        return False
    return True


def _id_part(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_.-]{1,60}", text) else "<name>"


_BRANCHES = {"main", "master", "dev", "develop", "head", "latest", "stable", "release"}


def revision(value: Any, raw: str | None) -> str:
    """Anything but a full lowercase 40-hex SHA: say which of the usual slips it is."""
    from runner.submissions.schema import COMMIT_SHA

    base = "revision: must be a full 40-character lowercase hex commit SHA"
    if isinstance(value, int | float) and not isinstance(value, bool):
        written = raw if raw and _HEX.fullmatch(raw) and len(raw) <= 40 else "…"
        return (
            "revision: must be a 40-character commit SHA in quotes (YAML read a number); "
            f'write `revision: "{written}"`'
        )
    if not isinstance(value, str):
        return wrong_type("revision", value, "a 40-character commit SHA")
    text = value.strip()
    pinned = "(branch names, tags and short SHAs are not pinned)"
    history = "copy the full commit id from the Hub (Files and versions → History)"
    if text != value and COMMIT_SHA.fullmatch(text):
        return f"revision: remove the spaces around the SHA; write `revision: {text}`"
    if COMMIT_SHA.fullmatch(text.lower()):
        return f"revision: write the commit SHA in lowercase: `revision: {text.lower()}`"
    if _HEX.fullmatch(text) and len(text) <= 12:
        return (
            f"{base}, not {shorten(text, 20)} {pinned}: that is a short SHA of {len(text)} "
            f"characters; {history}"
        )
    if _HEX.fullmatch(text):
        return f"{base}, not {shorten(text, 20)}: it has {len(text)} characters, not 40; {history}"
    if text.lower() in _BRANCHES or text.startswith("refs/heads/"):
        kind = "a branch, which moves"
    elif text.startswith("refs/pr/"):
        kind = "a pull-request ref, which moves"
    elif re.fullmatch(r"v?\d+(\.\d+)*\S*", text) or text.startswith("refs/tags/"):
        kind = "a tag, which can be moved"
    else:
        kind = "not a commit SHA"
    return f"{base}, not {shorten(text, 20)} {pinned}: that is {kind}; {history}"


def precision(value: Any, raw: str | None) -> str:
    """One of PRECISIONS; a known other spelling gets "did you mean"."""
    allowed = f"precision: must be {', '.join(PRECISIONS[:-1])} or {PRECISIONS[-1]}"
    if value is None:
        return f"precision: is empty; write bfloat16, float16 or float32: {PRECISION_FIX}"
    if isinstance(value, list | dict):
        return wrong_type("precision", value, f"one of {', '.join(PRECISIONS)}")
    written = raw if raw is not None and not isinstance(value, str) else str(value)
    normal = _normal(written.removeprefix("torch."))
    known = {_normal(k): v for k, v in PRECISION_ALIASES.items()} | {p: p for p in PRECISIONS}
    shown = shorten(written, 20)
    if normal in known:
        meant = known[normal]
        return f"{allowed}, not {shown}; did you mean `{meant}`? Write `precision: {meant}`"
    if re.search(r"int\d|\dbit|gptq|awq|gguf|nf4|fp8|float8|bnb|quant", normal):
        return (
            f"{allowed}, not {shown}: quantised weights are not evaluated; write the dtype of "
            "the unquantised weights"
        )
    return f"{allowed}, not {shown}; write {PRECISION_FIX} (usually bfloat16)"


_MODEL_TYPE_ALIASES: dict[str, str] = {
    **dict.fromkeys(("base", "pretrain", "foundation", "continuedpretraining"), "pretrained"),
    **dict.fromkeys(("finetune", "sft", "ft", "domainadapted", "finetuning"), "fine-tuned"),
    **dict.fromkeys(
        ("instruct", "instruction", "chat", "it", "instructiontuning"), "instruction-tuned"
    ),
    **dict.fromkeys(("rlhf", "dpo", "rl", "ppo", "orpo", "preferencetuned"), "rl-tuned"),
    **dict.fromkeys(("merge", "mergekit", "mergedmodel"), "merged"),
}


def meant_model_type(written: str) -> str | None:
    """The model type a misspelled or informal `model_type` stands for (`chat`: instruction-
    tuned), or None."""
    from runner.submissions.schema import MODEL_TYPES

    normal = _normal(written)
    meant = next((t for t in MODEL_TYPES if _normal(t) == normal), None)
    return meant or _MODEL_TYPE_ALIASES.get(normal)


def model_type(value: Any, raw: str | None) -> str:
    from runner.submissions.schema import MODEL_TYPES

    allowed = f"model_type: must be one of {', '.join(MODEL_TYPES)}"
    if value is None or isinstance(value, list | dict):
        return wrong_type("model_type", value, f"one of {', '.join(MODEL_TYPES)}")
    written = raw if raw is not None and not isinstance(value, str) else str(value)
    meant = meant_model_type(written)
    if meant:
        return (
            f"{allowed}, not {shorten(written, 20)}; did you mean `{meant}`? "
            f"Write `model_type: {meant}`"
        )
    return f"{allowed}, not {shorten(written, 20)} (SUBMITTING.md says what each means)"


# The Hub's license identifiers (huggingface.co/docs/hub/repositories-licenses): only to suggest
# one for a value that is not an id at all; the schema's own rule decides what is accepted.
_HUB_LICENSE_IDS = (
    "apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 "
    "bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause "
    "bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 "
    "cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 "
    "cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0 "
    "cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 "
    "agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 odc-by "
    "odbl openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr "
    "deepfloyd-if-license llama2 llama3 llama3.1 llama3.2 llama3.3 gemma unknown other"
)
HUB_LICENSES = tuple(_HUB_LICENSE_IDS.split())
_LICENSE_ALIASES = {"apache2": "apache-2.0", "apache": "apache-2.0", "gplv3": "gpl-3.0"}


def license_id(value: Any) -> str:
    allowed = "license: must be a Hub license id such as apache-2.0, mit, llama2 or other"
    if not isinstance(value, str):
        return wrong_type("license", value, "a Hub license id such as apache-2.0")
    words = re.sub(
        r"\b(the|license|licence|version|community|agreement|terms|of|use)\b", " ", value.lower()
    )
    normal = re.sub(r"[^a-z0-9+]", "", words.split(";")[0].split("(")[0])
    by_normal = {re.sub(r"[^a-z0-9+]", "", lic): lic for lic in HUB_LICENSES}
    meant = _LICENSE_ALIASES.get(normal) or by_normal.get(normal)
    if meant:
        return (
            f"{allowed}, not {shorten(value, 30)}; did you mean `{meant}`? Write `license: {meant}`"
        )
    return (
        f"{allowed}, not {shorten(value, 30)}; write the id shown on the model card "
        "(`other` for a custom license)"
    )


def description(value: Any) -> str | None:
    """Length problems with the actual length; None when the problem is not the length."""
    if not isinstance(value, str):
        return wrong_type("description", value, "text (10 to 2000 characters)")
    if len(value) < 10:
        return (
            f"description: {len(value)} character{'s' if len(value) != 1 else ''}; write at "
            "least 10: what the model is and what it was trained on"
        )
    if len(value) > 2000:
        return f"description: {len(value):,} characters; the limit is 2,000: shorten it"
    return None


def paper(value: Any, raw: str | None) -> str:
    written = raw if raw is not None and isinstance(value, int | float) else value
    if not isinstance(written, str):
        return wrong_type("paper", value, "an https:// link to the paper")
    base = "paper: must be an https:// URL"
    text = written.strip()
    if not text:
        return "paper: is empty; write an https:// link to the paper, or remove the line"
    if len(text) > 500:
        return f"paper: {len(text):,} characters; the limit is 500: link the paper's page"
    arxiv = _ARXIV_ID.fullmatch(text)
    doi = _DOI.fullmatch(text)
    if arxiv:
        return f"{base}; write `paper: https://arxiv.org/abs/{arxiv[1]}`"
    if doi:
        return f"{base}; write {shorten('paper: https://doi.org/' + doi[1], 70)}"
    if text.lower().startswith("http://"):
        return f"{base}; write {shorten('https://' + text[7:], 60)}"
    if "://" not in text and re.match(r"[\w-]+(\.[\w-]+)+/", text):
        return f"{base}; add https:// in front: {shorten('https://' + text, 60)}"
    return f"{base} (a link to the paper or technical report), not {shorten(text, 30)}"


def contact(value: Any) -> str:
    base = "contact: must be an https:// URL or a mailto: address"
    if not isinstance(value, str):
        return wrong_type("contact", value, "an https:// link or a mailto: address")
    text = value.strip()
    if not text:
        return "contact: is empty; write an https:// link or a mailto: address, or remove the line"
    address = text.removeprefix("mailto:").strip()
    if _PLAIN_EMAIL.fullmatch(address):
        return f"{base}; write `contact: mailto:{address}`"
    if text.lower().startswith("http://"):
        return f"{base}; write {shorten('https://' + text[7:], 60)}"
    if len(text) > 500:
        return f"contact: {len(text):,} characters; the limit is 500"
    return f"{base} (an issue tracker, a profile or an email), not {shorten(text, 30)}"
