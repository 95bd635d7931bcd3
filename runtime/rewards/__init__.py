"""Rewards for generated code that the policy cannot game.

Static analysis by rules over CPython's own syntax tree, in an isolated worker (``analyze``, ``analyze_many``,
``ALL_RULES``: the tree of exactly the program CPython runs), execution in an OS sandbox whose parent
owns the inputs, the clock and the checks (``run_in_sandbox``; docs/reward-safety.md), inputs the code
cannot predict (``KeyedRandom``), honest benchmarking against a reference, the coding tasks the policy is
asked to solve (``CodingTask``, by name in ``CODING_TASKS``; training tasks are ``runtime.grpo.TASKS``) and
their TRL reward functions (``CodingTaskRewards``), with the ``reward-check`` command
(``runtime.rewards.check_command``).
"""

from runtime.rewards.analyzer import AnalysisLimits, AnalysisUnavailableError, analyze, analyze_many
from runtime.rewards.coding_task import CodingTask
from runtime.rewards.coding_task_rewards import CodingTaskRewards
from runtime.rewards.coding_tasks import CODING_TASKS, get_coding_task
from runtime.rewards.completion_code import completion_code, completion_text, extract_python_code
from runtime.rewards.entry_point import defines_function
from runtime.rewards.errors import (
    CodingTaskConfigError,
    RewardsError,
    SandboxError,
    SandboxUnavailableError,
    UnknownCodingTaskError,
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
from runtime.rewards.verdict import Finding, Verdict

__all__ = [
    "AnalysisLimits",
    "AnalysisUnavailableError",
    "ALL_RULES",
    "MATMUL",
    "CODING_TASKS",
    "CallRecord",
    "CodingTask",
    "CodingTaskConfigError",
    "CodingTaskRewards",
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
    "UnknownCodingTaskError",
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
    "get_coding_task",
    "run_in_sandbox",
]
