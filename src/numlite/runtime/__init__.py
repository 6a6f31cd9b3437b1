"""The model runtime: ModelRuntime (one model), SubgraphExecutor (prepare, plan, eval), the arena planner."""
from .executor import MemoryReport, SubgraphExecutor
from .model import ModelRuntime

__all__ = ["ModelRuntime", "SubgraphExecutor", "MemoryReport"]
