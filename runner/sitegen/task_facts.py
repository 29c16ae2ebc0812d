"""What each leaderboard dataset measures, stated from the paper that introduced it.

The task registry (`runner.evaluation.tasks`) says where the rows come from; this module says what
they are, for the task pages. Each fact carries its paper so a reader can check it.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.evaluation.tasks import TASKS
from runner.sitegen.formatting import percent_label
from runner.stats import chance_normalized


@dataclass(frozen=True)
class Paper:
    citation: str  # authors, title, venue, year
    url: str


@dataclass(frozen=True)
class Baseline:
    """What a model scores without knowing anything: guessing, or always the commonest answer."""

    options: int  # answer options per question
    majority: float | None = None  # share of the most common answer, as the paper reports it
    majority_answer: str | None = None

    @property
    def chance(self) -> float:
        return 1 / self.options

    def normalized(self, accuracy: float) -> float:
        """Chance-normalised accuracy, (acc - chance) / (1 - chance): 0 at chance, 1 all right
        (the results file's `chance_normalized`, ARCHITECTURE.md "Calibration")."""
        return chance_normalized(accuracy, self.options)

    @property
    def text(self) -> str:
        line = f"Chance: {percent_label(self.chance)} (one of {self.options} options at random)"
        if self.majority is not None:
            line += (
                f"; always answering “{self.majority_answer}”, the most common answer, scores "
                f"{percent_label(self.majority)} on the test set (the paper's majority baseline)"
            )
        return line + "."


@dataclass(frozen=True)
class DatasetFacts:
    short: str  # column header on the leaderboard
    measures: str  # one paragraph: what a question is and what answering it takes
    size: str  # the dataset as published, and the part the leaderboard uses
    paper: Paper
    baseline: Baseline = Baseline(options=4)


MEDQA = Paper(
    "Jin, Pan, Oufattole, Weng, Fang, Szolovits. What Disease does this Patient Have? A "
    "Large-scale Open Domain Question Answering Dataset from Medical Exams. Applied Sciences, 2021",
    "https://arxiv.org/abs/2009.13081",
)
MEDMCQA = Paper(
    "Pal, Umapathi, Sankarasubbu. MedMCQA: A Large-scale Multi-Subject Multi-Choice Dataset for "
    "Medical domain Question Answering. Conference on Health, Inference, and Learning (CHIL), 2022",
    "https://arxiv.org/abs/2203.14371",
)
PUBMEDQA = Paper(
    "Jin, Dhingra, Liu, Cohen, Lu. PubMedQA: A Dataset for Biomedical Research Question "
    "Answering. EMNLP-IJCNLP, 2019",
    "https://arxiv.org/abs/1909.06146",
)
MMLU = Paper(
    "Hendrycks, Burns, Basart, Zou, Mazeika, Song, Steinhardt. Measuring Massive Multitask "
    "Language Understanding. ICLR, 2021",
    "https://arxiv.org/abs/2009.03300",
)

_MMLU_MEASURES = (
    "Four-option multiple-choice questions from one of MMLU's 57 subjects. MMLU's questions were "
    "collected from freely available sources such as practice questions for the GRE and the "
    "USMLE, and test knowledge a model must have absorbed in pre-training: it is evaluated "
    "zero-shot, with no retrieval."
)

FACTS: dict[str, DatasetFacts] = {
    "medqa_4options": DatasetFacts(
        "MedQA",
        "Clinical vignettes in the style of the United States Medical Licensing Examination "
        "(USMLE): a patient is described and the question asks for the diagnosis, the mechanism "
        "or the next step in management. Answering takes both recalled medical knowledge and "
        "multi-step clinical reasoning.",
        "The English (US) part of MedQA has 12,723 questions collected from professional medical "
        "board exams; the leaderboard uses its 1,273-question test split in the four-option "
        "version.",
        MEDQA,
    ),
    "medmcqa": DatasetFacts(
        "MedMCQA",
        "Questions from the Indian postgraduate medical entrance exams (AIIMS and NEET PG), "
        "spanning 21 medical subjects from anatomy to surgery; the site breaks the score down "
        "by subject.",
        "MedMCQA has more than 194,000 four-option questions on 2,400 healthcare topics; its test "
        "answers are not public, so the leaderboard uses the 4,183-question validation split.",
        MEDMCQA,
    ),
    "pubmedqa": DatasetFacts(
        "PubMedQA",
        "Reading comprehension of biomedical research: a question derived from a PubMed "
        "article's title is answered yes, no or maybe from the abstract's context (without its "
        "conclusion), which takes reasoning over the reported findings.",
        "PubMedQA has 1,000 expert-annotated, 61,200 unlabeled and 211,300 automatically "
        "generated instances; the leaderboard uses the 500-question test set of the "
        "expert-annotated part (PQA-L).",
        PUBMEDQA,
        # The paper's abstract: "majority-baseline of 55.2% accuracy" (the answer "yes").
        Baseline(options=3, majority=0.552, majority_answer="yes"),
    ),
    **{
        f"mmlu_{subject}": DatasetFacts(
            short,
            _MMLU_MEASURES,
            f"The {subject.replace('_', ' ')} subject: {TASKS[f'mmlu_{subject}'].n_total} test "
            "questions.",
            MMLU,
        )
        for subject, short in (
            ("clinical_knowledge", "Clinical knowl."),
            ("medical_genetics", "Med. genetics"),
            ("anatomy", "Anatomy"),
            ("professional_medicine", "Prof. medicine"),
            ("college_biology", "College bio."),
            ("college_medicine", "College med."),
        )
    },
}
