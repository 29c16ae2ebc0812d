"""The reasoning track (`cot`): zero-shot chain of thought with the model's chat template
(ARCHITECTURE.md, "The reasoning track")."""
