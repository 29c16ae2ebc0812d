"""Every call to the Hugging Face Hub lives in this module, and nowhere else.

Everything outside it works on local directories and files: a model directory (config.json,
*.safetensors, tokenizer files) and a data directory (`<task>.jsonl` / `<task>.parquet`). This
module's job is only to turn a Hub id at a pinned revision into such a local thing, or to answer a
question about a Hub repo (public? gated? which files?). Tests never call it with network access;
they exercise the same downstream code on locally built tiny models and data.

Every huggingface_hub error is classified once (`runner.hub_errors`): the Hub answered no (no
such repository or revision, gated, disabled: `HubLookupError`, a verdict, exit 1) or the Hub did
not answer (unreachable, timed out, rate-limited, a server error: `HubUnavailable`, exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from runner.digests import file_git_blob_sha1, file_sha256
from runner.errors import UserError
from runner.hub_errors import (
    HubLookupError,
    HubUnavailable,
    describe_unavailable,
    network_errors,
    raise_if_unavailable,
    refused,
)

__all__ = ["HubLookupError", "HubUnavailable", "describe_unavailable"]  # raised to callers

# ---- models (validation and evaluation) --------------------------------------------------------

# What a model snapshot needs: safetensors weights only (never pickles), configs, tokenizer files;
# at the repository's root only (a subfolder holds intermediate checkpoints, other formats).
MODEL_FILE_PATTERNS = ["*.json", "*.safetensors", "tokenizer.model", "*.tiktoken", "*.txt"]
MAX_MODEL_BYTES = 400 * 1024**3  # a 100B-parameter model in float32; more is not one model


def model_files_to_download(sizes: dict[str, int | None], display: str) -> list[str]:
    """The root-level files of a listing (name -> size, as the Hub lists them) that a model
    needs, checked to total at most `MAX_MODEL_BYTES` before a byte is downloaded."""
    from fnmatch import fnmatchcase

    matches = (any(fnmatchcase(n, p) for p in MODEL_FILE_PATTERNS) for n in sizes)
    wanted = sorted(n for n, match in zip(sizes, matches, strict=True) if match and "/" not in n)
    total = sum(sizes[name] or MAX_MODEL_BYTES + 1 for name in wanted)  # no size: refused
    if total > MAX_MODEL_BYTES:
        raise UserError(
            f"{display}: its model files total {total / 1024**3:.0f} GiB, over the "
            f"{MAX_MODEL_BYTES / 1024**3:.0f} GiB limit; nothing is downloaded"
        )
    return wanted


def download_model(repo_id: str, revision: str, cache_dir: str | None = None) -> str:
    """Download `repo_id` at the pinned commit `revision` (only if the Hub resolves it to that
    very commit; only `model_files_to_download`); return the snapshot directory, every file of
    which matches the digest the Hub lists (`verify_snapshot`). `HubUnavailable` when the Hub
    did not answer; its refusals (not found, gated) stay huggingface_hub's OSErrors."""
    from huggingface_hub import snapshot_download

    display = f"{repo_id}@{revision[:12]}"
    listing = fetch_model_listing(repo_id, revision)
    if listing.commit != revision:
        raise UserError(
            f"{display}: the Hub resolved the revision to {listing.commit or 'nothing'}, not the "
            "pinned commit; nothing is downloaded"
        )
    wanted = model_files_to_download(listing.sizes, display)
    try:
        directory = snapshot_download(
            repo_id=repo_id,
            revision=revision,
            allow_patterns=wanted,  # exact root-level names: no pattern reaches a subfolder
            cache_dir=cache_dir,
        )
    except network_errors() as err:
        raise_if_unavailable(f"downloading {display}", err)
        raise
    verify_snapshot(Path(directory), listing.digests, f"{repo_id}@{revision}")
    return directory


# A snapshot is served from a cache that outlives a job on a persistent runner; a file changed
# there (or on the way) is caught before it is loaded (ARCHITECTURE.md, "Trust boundary").


@dataclass(frozen=True)
class FileDigest:
    """What the Hub says a file's bytes are: the LFS sha256 (weights), else the git blob id."""

    sha256: str | None
    git_blob: str | None


def file_digests(siblings: Any) -> dict[str, FileDigest]:
    """From `model_info(..., files_metadata=True).siblings` (`RepoSibling`s)."""
    return {
        sibling.rfilename: FileDigest(
            sha256=sibling.lfs.sha256 if sibling.lfs is not None else None,
            git_blob=sibling.blob_id,
        )
        for sibling in siblings or ()
    }


@dataclass(frozen=True)
class ModelListing:
    """A model repository at a revision: the commit it resolved to, each file's size, digest."""

    commit: str | None
    sizes: dict[str, int | None]
    digests: dict[str, FileDigest]


def fetch_model_listing(repo_id: str, revision: str) -> ModelListing:
    from huggingface_hub import model_info

    try:
        info = model_info(repo_id, revision=revision, files_metadata=True, timeout=30)
    except network_errors() as err:
        raise refused(f"listing the files of {repo_id}@{revision[:12]}", err) from None
    siblings = info.siblings or ()
    return ModelListing(
        commit=getattr(info, "sha", None),
        sizes={sibling.rfilename: sibling.size for sibling in siblings},
        digests=file_digests(siblings),
    )


def verify_snapshot(directory: Path, digests: dict[str, FileDigest], display: str) -> None:
    """Refuse a snapshot with a file the Hub does not list, or whose bytes differ from it:
    every *.safetensors file by its LFS sha256 (required), any other by sha256 or git blob id."""
    for path in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        expected = digests.get(name)
        if expected is None or (name.endswith(".safetensors") and expected.sha256 is None):
            raise UserError(f"{display}: {name} has no digest in the Hub's metadata; not loaded")
        if expected.sha256 is not None:
            matches = file_sha256(path) == expected.sha256
        else:
            matches = (
                expected.git_blob is not None and file_git_blob_sha1(path) == expected.git_blob
            )
        if not matches:
            raise UserError(
                f"{display}: {name} differs from the file the Hub lists (sha256 / blob id); "
                "the download or the cache was altered, so nothing is loaded"
            )


# Hub checks for `medlb validate`. They ask anonymously (token=False): a submission must be readable
# by anyone, so a maintainer's or CI's token must not make a private or gated repo look public.


@dataclass(frozen=True)
class HubModelRepo:
    """What the Hub says about a model repository at one revision."""

    repo_id: str
    commit: str  # the commit the requested revision resolved to
    private: bool
    gated: str | None  # "auto" / "manual" when access must be requested, else None
    disabled: bool
    files: tuple[str, ...]  # every file at that commit, repository-relative
    canonical_id: str | None = None  # the id as the Hub spells it (it ignores case in lookups)


def fetch_model_repo(repo_id: str, revision: str) -> HubModelRepo:
    """Visibility, gating, resolved commit and file list of `repo_id` at `revision`."""
    from huggingface_hub import model_info
    from huggingface_hub.errors import (
        DisabledRepoError,
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        info = model_info(repo_id, revision=revision, token=False, timeout=30)
    except GatedRepoError:
        raise HubLookupError(
            "repository",
            f"{repo_id} is gated; the leaderboard evaluates only models anyone can download",
        ) from None
    except RepositoryNotFoundError:
        raise HubLookupError(
            "repository", f"{repo_id} does not exist on the Hub or is private"
        ) from None
    except RevisionNotFoundError:
        raise HubLookupError(
            "revision", f"revision {revision} does not exist in {repo_id}"
        ) from None
    except DisabledRepoError:
        raise HubLookupError("repository", f"{repo_id} is disabled on the Hub") from None
    except network_errors() as err:
        raise refused(f"looking up {repo_id}", err) from None
    return HubModelRepo(
        repo_id=repo_id,
        commit=str(info.sha),
        private=bool(info.private),
        gated=str(info.gated) if info.gated else None,
        disabled=bool(info.disabled),
        files=tuple(sibling.rfilename for sibling in info.siblings or ()),
        canonical_id=str(info.id) if getattr(info, "id", None) else None,
    )


def download_model_files(repo_id: str, revision: str, filenames: list[str], dest: Path) -> Path:
    """Download the named small files (config, tokenizer) of `repo_id` at `revision` into `dest`."""
    from huggingface_hub import hf_hub_download

    for filename in filenames:
        try:
            hf_hub_download(repo_id, filename, revision=revision, local_dir=dest, token=False)
        except network_errors() as err:
            raise refused(f"downloading {filename} from {repo_id}", err) from None
    return dest


def fetch_safetensors_parameter_count(repo_id: str, revision: str) -> dict[str, int]:
    """Parameters per dtype (e.g. {"BF16": 7241732096}) from the safetensors headers on the Hub.

    Only the JSON headers are fetched (HTTP range requests), never the weights.
    """
    from huggingface_hub import get_safetensors_metadata
    from huggingface_hub.errors import NotASafetensorsRepoError

    try:
        metadata = get_safetensors_metadata(repo_id, revision=revision, token=False)
    except NotASafetensorsRepoError:
        raise HubLookupError("repository", f"{repo_id} has no safetensors metadata") from None
    except network_errors() as err:
        raise refused(f"reading the safetensors headers of {repo_id}", err) from None
    return dict(metadata.parameter_count)


# ---- datasets (`medlb data fetch`, evaluation without --data-dir) ---------------------------


class DatasetSplit(Protocol):
    """Where a task's rows live on the Hub: what this module needs of a task (`TaskSpec` has it).

    A protocol rather than `TaskSpec` itself keeps this core module below the evaluation package
    (ARCHITECTURE.md, "Layout": imports run one way).
    """

    name: str
    dataset: str
    config: str | None
    revision: str | None
    data_source: str  # "repository" or "parquet-conversion"
    split: str


def dataset_url(spec: DatasetSplit) -> str:
    """Where a task's rows come from, as recorded in provenance: `hf://<dataset>[/<config>]@<sha>`."""
    config = f"/{spec.config}" if spec.config else ""
    return f"hf://{spec.dataset}{config}@{spec.revision}"


def download_task_rows(spec: DatasetSplit) -> list[dict[str, Any]]:
    """The rows of `spec`'s split at its pinned revision, in split order, in the Hub's columns.

    A repository source loads with `datasets.load_dataset(..., revision=SHA)`. A parquet conversion
    (a loading-script dataset, which current `datasets` refuses to run) reads the converted files
    `<config>/<split>/*.parquet` at the conversion branch's commit.
    """
    from datasets import load_dataset

    if spec.revision is None:
        raise UserError(
            f"{spec.name}: {spec.dataset} has no pinned revision in runner/evaluation/tasks.py; "
            "medlb reads no moving branch (pin a commit SHA there, or pass --data-dir with a "
            "local copy)"
        )
    try:
        if spec.data_source == "parquet-conversion":
            pattern = f"{spec.config}/{spec.split}/*.parquet"
            files = f"hf://datasets/{spec.dataset}@{spec.revision}/{pattern}"
            dataset = load_dataset("parquet", data_files={spec.split: files}, split=spec.split)
        else:
            dataset = load_dataset(
                spec.dataset, spec.config, split=spec.split, revision=spec.revision
            )
    except (OSError, ValueError) as err:  # network, missing revision/config/split, bad files
        raise_if_unavailable(f"reading {dataset_url(spec)}", err)
        raise UserError(
            f"{dataset_url(spec)}: could not load split {spec.split!r} "
            f"({type(err).__name__}: {str(err)[:200]})"
        ) from None
    return dataset.to_list()


def resolve_dataset_revision(spec: DatasetSplit) -> str:
    """The commit SHA that `spec`'s rows are read at today: the dataset repository's head, or the
    head of its parquet conversion (`refs/convert/parquet`). For `medlb data pin`, whose output a
    maintainer reviews and commits to runner/evaluation/tasks.py; evaluation never calls this."""
    from huggingface_hub import HfApi

    api = HfApi()
    try:
        if spec.data_source == "parquet-conversion":
            refs = api.list_repo_refs(spec.dataset, repo_type="dataset", token=False)
            commits = [ref.target_commit for ref in refs.converts if ref.name == "parquet"]
            if not commits:
                raise UserError(f"{spec.dataset}: the Hub lists no parquet conversion")
            return commits[0]
        sha = api.dataset_info(spec.dataset, token=False).sha
    except network_errors() as err:
        raise_if_unavailable(f"asking for the revision of {spec.dataset}", err)
        raise UserError(
            f"{spec.dataset}: could not ask the Hub for its revision ({type(err).__name__})"
        ) from None
    if not sha:
        raise UserError(f"{spec.dataset}: the Hub returned no commit for the dataset")
    return sha


# ---- the cot details store (the publish job) ---------------------------------------------------


def upload_dataset_files(repo_id: str, files: dict[str, bytes], message: str) -> str:
    """One commit of `files` (path in the repository → bytes) to the Hub dataset repository
    `repo_id`, with the token in HF_TOKEN; the commit's id. The repository must exist (a
    maintainer creates it). Uploading bytes it already holds makes an empty commit, harmless.
    `HubUnavailable` when the Hub did not answer; its refusals are a `UserError`."""
    from huggingface_hub import CommitOperationAdd, HfApi

    operations = [CommitOperationAdd(path, data) for path, data in sorted(files.items())]
    what = f"a commit of {len(files)} files to the dataset {repo_id}"
    try:
        info = HfApi().create_commit(
            repo_id, operations, commit_message=message, repo_type="dataset"
        )
    except network_errors() as err:
        raise refused(what, err) from None
    return str(info.oid)
