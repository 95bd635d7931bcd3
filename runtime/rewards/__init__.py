"""Rewards for generated code that the policy cannot game.

Static analysis by rules over CPython's own syntax tree, in an isolated worker (``analyze``, ``analyze_many``,
``ALL_RULES``: the tree of exactly the program CPython runs), execution in an OS sandbox whose parent
owns the inputs, the clock and the checks (``run_in_sandbox``; docs/reward-safety.md), inputs the code
cannot predict (``KeyedRandom``), honest benchmarking against a reference, and the per-task TRL reward
functions (``TaskRewards``), with the ``reward-check`` command (``runtime.rewards.check_command``).
"""

from runtime.rewards.analyzer import AnalysisLimits, AnalysisUnavailableError, analyze, analyze_many
from runtime.rewards.completion_code import completion_code, completion_text, extract_python_code
from runtime.rewards.entry_point import defines_function
from runtime.rewards.errors import (
    RewardsError,
    SandboxError,
    SandboxUnavailableError,
    TaskConfigError,
    UnknownTaskError,
)
from runtime.rewards.evaluation import Evaluation, evaluate
from runtime.rewards.input_randomness import KeyedRandom, fresh_seed
from runtime.rewards.lint_rule import LintRule, RuleContext
from runtime.rewards.matmul_task import MATMUL
from runtime.rewards.rules import ALL_RULES
from runtime.rewards.sandbox import (
    CallRecord,
    SandboxJob,
    SandboxLimits,
    SandboxOutcome,
    WeakSandboxWarning,
    run_in_sandbox,
)
from runtime.rewards.task import Task
from runtime.rewards.task_registry import TASKS, get_task
from runtime.rewards.task_rewards import TaskRewards
from runtime.rewards.verdict import Finding, Verdict

__all__ = [
    "AnalysisLimits",
    "AnalysisUnavailableError",
    "ALL_RULES",
    "MATMUL",
    "TASKS",
    "CallRecord",
    "Evaluation",
    "Finding",
    "KeyedRandom",
    "LintRule",
    "RewardsError",
    "RuleContext",
    "SandboxError",
    "SandboxJob",
    "SandboxLimits",
    "SandboxOutcome",
    "SandboxUnavailableError",
    "Task",
    "TaskConfigError",
    "TaskRewards",
    "UnknownTaskError",
    "Verdict",
    "WeakSandboxWarning",
    "analyze",
    "analyze_many",
    "completion_code",
    "completion_text",
    "defines_function",
    "evaluate",
    "extract_python_code",
    "fresh_seed",
    "get_task",
    "run_in_sandbox",
]
