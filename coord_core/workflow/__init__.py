"""The analysis workflow: LangGraph nodes over the ``coord_core.analysis`` stages."""
