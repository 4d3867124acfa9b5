"""Local-LLM narrative of campaigns (Ollama): text only, every claim cited, never a score.

The analysis decides verdicts and confidences by statistics; this package only explains them.
``narrator.Narrator`` drives one interval: model selection (``model_selection``), the fenced
prompt (``prompt``, ``untrusted``), the structured answer and its citations (``output``), the
deterministic narrative when no model can be used (``fallback``) and the GPU report (``gpu_report``).
"""
