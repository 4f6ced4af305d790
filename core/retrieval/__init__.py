"""Any-to-any retrieval (spec §6): global embeddings predicted by 4M, an index of embeddings, cosine search."""

from mm4m.core.retrieval.embeddings import read_embeddings
from mm4m.core.retrieval.index import Hit, RetrievalError, RetrievalIndex
from mm4m.core.retrieval.query import predict_embedding, retrieval_plan, retrieve
from mm4m.core.retrieval.search import SearchBackend, faiss_available

__all__ = ["Hit", "RetrievalError", "RetrievalIndex", "SearchBackend", "faiss_available", "predict_embedding",
           "read_embeddings", "retrieval_plan", "retrieve"]
