"""Agentic RAG: a LangGraph state graph that plans, retrieves, grades, rewrites, answers and checks.

``from rag.agentic.graph import AgenticRAG`` (imported from there, so that ``import rag`` stays
free of langgraph).
"""
