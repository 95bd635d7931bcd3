"""Rewards for generated code that the policy cannot game.

Static analysis with libcst rules (``analyze``, ``ALL_RULES``), sandboxed execution in a separate
resource-limited interpreter (``run_in_sandbox``), honest benchmarking against a reference, and the
per-task TRL reward functions (``TaskRewards``), with the ``reward-check`` command
(``runtime.rewards.check_command``).
"""

from runtime.rewards.analyzer import analyze
from runtime.rewards.completion_code import completion_code, completion_text, extract_python_code
from runtime.rewards.entry_point import defines_function
from runtime.rewards.errors import RewardsError, SandboxError, TaskConfigError, UnknownTaskError
from runtime.rewards.evaluation import Evaluation, evaluate
from runtime.rewards.lint_rule import LintRule, RuleContext
from runtime.rewards.matmul_task import MATMUL
from runtime.rewards.rules import ALL_RULES
from runtime.rewards.sandbox import CallRecord, SandboxJob, SandboxLimits, SandboxOutcome, run_in_sandbox
from runtime.rewards.task import Task
from runtime.rewards.task_registry import TASKS, get_task
from runtime.rewards.task_rewards import TaskRewards
from runtime.rewards.verdict import Finding, Verdict

__all__ = [
    "ALL_RULES",
    "MATMUL",
    "TASKS",
    "CallRecord",
    "Evaluation",
    "Finding",
    "LintRule",
    "RewardsError",
    "RuleContext",
    "SandboxError",
    "SandboxJob",
    "SandboxLimits",
    "SandboxOutcome",
    "Task",
    "TaskConfigError",
    "TaskRewards",
    "UnknownTaskError",
    "Verdict",
    "analyze",
    "completion_code",
    "completion_text",
    "defines_function",
    "evaluate",
    "extract_python_code",
    "get_task",
    "run_in_sandbox",
]
