"""The chat-template check: which tracks a model gets, and a template that is safe to render.

A chat template is untrusted Jinja from the model's repository. It is data: read from
`chat_template.jinja` or tokenizer_config.json's `chat_template`, capped in size, and rendered
only by transformers' own `apply_chat_template` (an `ImmutableSandboxedEnvironment`), once, on a
sample user message with `add_generation_prompt=True`, with nothing from the submission (no
tools, no extra variables). Rendering runs in a child process under a time limit and a memory
limit, so a template that loops or allocates without end costs the validator two seconds, not
its life (ARCHITECTURE.md, "The reasoning track"). A model without a template gets the `loglik`
track only; an optional `tracks:` field in the submission narrows the tracks further.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import first_line
from runner.results_schema import TRACKS
from runner.submissions.checks import CheckResult

TEMPLATE_FILE = "chat_template.jinja"
MAX_TEMPLATE_BYTES = 128 * 1024  # real templates, tool instructions included, stay under 40 KB
RENDER_SECONDS = 2.0
MAX_RENDER_BYTES = 64 * 1024
LOAD_SECONDS = 120.0  # loading the tokenizer in the child: not the template's time
RENDER_MEMORY_BYTES = 1024**3  # what rendering may allocate on top of the loaded tokenizer
SAMPLE_MESSAGE = (
    "Answer the following multiple-choice question. Think step by step, then end your response "
    'with a line of the form "Final Answer: X", where X is one of A, B, C or D.\n\n'
    "Question: A 45-year-old man has crushing chest pain for 30 minutes. Which test comes first?\n"
    "A. Electrocardiogram\nB. Chest radiograph\nC. Serum troponin\nD. Echocardiogram"
)


@dataclass(frozen=True)
class FoundTemplate:
    """The template transformers will use, as text, and where it came from."""

    source: str  # "chat_template.jinja" or "tokenizer_config.json"
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def find_chat_template(directory: Path) -> FoundTemplate | str | None:
    """The default chat template, None when there is none, or a one-line reason it is unusable.

    `chat_template.jinja` wins over tokenizer_config.json, as in transformers' loading; a list of
    named templates in tokenizer_config.json contributes its `default` one."""
    jinja = Path(directory) / TEMPLATE_FILE
    if jinja.is_file():
        if jinja.stat().st_size > MAX_TEMPLATE_BYTES:
            return f"{TEMPLATE_FILE} is over {MAX_TEMPLATE_BYTES // 1024} KiB"
        try:
            return FoundTemplate(TEMPLATE_FILE, jinja.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            return f"{TEMPLATE_FILE} is not UTF-8 text"
    try:
        config = json.loads((Path(directory) / "tokenizer_config.json").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # the tokenizer check reports an unreadable tokenizer_config.json
    template = config.get("chat_template") if isinstance(config, dict) else None
    if isinstance(template, list):
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default")
        if template is None:
            return "tokenizer_config.json lists named chat templates but none named `default`"
    if template is None:
        return None
    if not isinstance(template, str):
        return "tokenizer_config.json's chat_template is not a string"
    if len(template.encode("utf-8")) > MAX_TEMPLATE_BYTES:
        return f"tokenizer_config.json's chat_template is over {MAX_TEMPLATE_BYTES // 1024} KiB"
    return FoundTemplate("tokenizer_config.json", template)


@dataclass(frozen=True)
class Rendering:
    """How rendering the sample message went: `text` on success, else `problem`."""

    text: str | None = None
    problem: str | None = None
    seconds: float = 0.0


def render_sample(directory: Path) -> Rendering:
    """Render the sample message with the tokenizer's chat template in a child process."""
    # A fork of a clean server process that has imported transformers once: no threads or state
    # inherited from the validator, and no second import of transformers for every model.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["transformers.models.auto.tokenization_auto", __name__])
    parent_end, child_end = context.Pipe(duplex=False)
    child = context.Process(target=_render_in_child, args=(str(directory), child_end), daemon=True)
    child.start()
    child_end.close()
    try:
        ready = _receive(parent_end, LOAD_SECONDS)
        if ready is None or ready[0] != "ready":
            return Rendering(problem=_child_problem(ready, "the tokenizer did not load"))
        started = time.monotonic()
        answer = _receive(parent_end, RENDER_SECONDS)
        seconds = time.monotonic() - started
        if answer is None:
            return Rendering(problem=f"rendering took over {RENDER_SECONDS:g} s", seconds=seconds)
        if answer[0] == "too-long":
            return Rendering(
                problem=f"the rendered sample is {answer[1]:,} bytes (over "
                f"{MAX_RENDER_BYTES // 1024} KB)",
                seconds=seconds,
            )
        if answer[0] != "text":
            return Rendering(problem=_child_problem(answer, "rendering failed"), seconds=seconds)
        return Rendering(text=answer[1], seconds=seconds)
    finally:
        parent_end.close()
        if child.is_alive():
            child.kill()
        child.join()


def _receive(connection: Any, seconds: float) -> tuple | None:
    try:
        return connection.recv() if connection.poll(seconds) else None
    except EOFError:  # the child died (killed by the memory limit, a crash in a tokenizer)
        return ("error", "the rendering process died")


def _child_problem(message: tuple | None, what: str) -> str:
    if message is None:
        return f"{what} within {LOAD_SECONDS:g} s"
    return f"{what}: {message[1]}" if message[0] == "error" else what


def _render_in_child(directory: str, connection: Any) -> None:
    """The child: load the tokenizer, say so, then render once under a memory limit."""
    try:
        from transformers import AutoTokenizer
        from transformers.utils import logging

        logging.set_verbosity_error()
        tokenizer = AutoTokenizer.from_pretrained(
            directory, trust_remote_code=False, local_files_only=True
        )
    except Exception as err:  # the tokenizer check reports why; here only that it failed
        connection.send(("error", f"the tokenizer did not load ({first_line(err, 120)})"))
        return
    _limit_memory(RENDER_MEMORY_BYTES)
    connection.send(("ready",))
    try:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": SAMPLE_MESSAGE}],
            tokenize=False,
            add_generation_prompt=True,
        )
    except MemoryError:
        connection.send(("error", f"rendering needed over {RENDER_MEMORY_BYTES // 1024**3} GiB"))
        return
    except Exception as err:  # the template's own error (raise_exception, undefined names, ...)
        connection.send(("error", f"{type(err).__name__}: {first_line(err, 160)}"))
        return
    size = len(str(text).encode("utf-8"))
    connection.send(("too-long", size) if size > MAX_RENDER_BYTES else ("text", str(text)))


def _limit_memory(extra: int) -> None:
    """Cap the child's address space at what it uses now plus `extra` (Linux; a no-op
    elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
        used = pages * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + extra, used + extra))
    except (OSError, ValueError):
        pass


def check_chat_template(directory: Path, tracks: tuple[str, ...] | None = None) -> CheckResult:
    """The "chat-template" check: which tracks will run, and why not `cot` when it will not.

    `tracks` is the submission's optional `tracks:` field (None: every track the model allows)."""
    if tracks is not None and "cot" not in tracks:
        return CheckResult("chat-template", "pass", "loglik only: the submission asks for it")
    found = find_chat_template(directory)
    if found is None:
        if tracks is not None:
            return CheckResult(
                "chat-template", "fail", "tracks: cot needs a chat template; the model has none"
            )
        return CheckResult("chat-template", "pass", "loglik only: no chat template")
    if isinstance(found, str):
        return CheckResult("chat-template", "fail", found)
    rendering = render_sample(directory)
    if rendering.problem is not None:
        return CheckResult("chat-template", "fail", f"{found.source}: {rendering.problem}")
    rendered = len((rendering.text or "").encode("utf-8"))
    which = " and ".join(t for t in TRACKS if tracks is None or t in tracks)
    return CheckResult(
        "chat-template",
        "pass",
        f"{which}: the template in {found.source} ({len(found.text.encode('utf-8')):,} bytes) "
        f"renders a sample message in {rendering.seconds:.2f} s ({rendered:,} bytes)",
    )
