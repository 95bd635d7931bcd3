"""`load_reward_function("module:function")` imports from the working directory and says what is wrong otherwise."""

import subprocess
import sys
import textwrap

import pytest

from runtime.grpo import GRPOInputError
from runtime.grpo.reward_loading import load_reward_function

REWARDS = """
LIMIT = 3


def length_reward(prompts, completions, **kwargs):
    return [float(len(completion)) for completion in completions]


class Scorer:
    @staticmethod
    def score(prompts, completions, **kwargs):
        return [1.0 for _ in completions]
"""


@pytest.fixture()
def working_directory(tmp_path, monkeypatch):
    """tmp_path as the working directory; sys.path and the modules imported from there are restored after."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write_module(directory, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(source))


def test_a_module_in_the_working_directory_loads_from_a_fresh_interpreter(tmp_path):
    write_module(tmp_path, "mymodule", REWARDS)
    # -P: the working directory is not on sys.path, as for the `rewrite` console script
    program = "from runtime.grpo.reward_loading import load_reward_function as load; " \
              "print(load('mymodule:length_reward')([], ['ab', 'abc']))"
    result = subprocess.run([sys.executable, "-P", "-c", program], cwd=tmp_path, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[2.0, 3.0]"


def test_callables_pass_through_and_attribute_paths_resolve(working_directory):
    write_module(working_directory, "rewards_a", REWARDS)
    assert load_reward_function(len) is len
    assert load_reward_function("rewards_a:Scorer.score")([], ["x"]) == [1.0]


def refusal_of(spec) -> str:
    with pytest.raises(GRPOInputError) as refusal:
        load_reward_function(spec)
    return str(refusal.value)


@pytest.mark.parametrize("spec", ["a:b:c", ":reward", "mymodule:", 3])
def test_a_spec_without_module_and_function_is_refused(spec):
    assert refusal_of(spec) == (
        f"reward function {spec!r} must be given as 'module:function' (e.g. mymodule:reward for def reward(...) in "
        "mymodule.py in the working directory)."
    )


@pytest.mark.parametrize("spec", ["trl-lib/Qwen2-0.5B-Reward", "mymodule.reward"])
def test_a_spec_without_a_colon_is_refused_as_a_reward_model_with_what_to_do(spec):
    assert refusal_of(spec) == (
        f"reward function {spec!r} is not 'module:function': TRL would load it as a reward model "
        "(AutoModelForSequenceClassification), which this trainer does not run. Wrap the model in a function "
        "(prompts, completions, **kwargs) -> list[float] that scores the completions with it, or name a function "
        "as 'module:function' (e.g. mymodule:reward for def reward(...) in mymodule.py in the working directory)."
    )


def test_a_missing_module_names_where_it_was_looked_for(working_directory):
    assert refusal_of("no_such_rewards:reward") == (
        f"reward function 'no_such_rewards:reward': no module 'no_such_rewards': looked for no_such_rewards.py (or a "
        f"package of that name) in the working directory {working_directory} and on the Python path; run from the "
        "directory that holds it, or add that directory to PYTHONPATH."
    )


def test_a_module_whose_own_import_fails_says_which(working_directory):
    write_module(working_directory, "rewards_b", "import not_installed_dependency\n")
    assert refusal_of("rewards_b:reward") == (
        "reward function 'rewards_b:reward': importing rewards_b failed: No module named 'not_installed_dependency'."
    )


def test_a_module_that_raises_on_import_is_reported(working_directory):
    write_module(working_directory, "rewards_c", "def reward(:\n")
    message = refusal_of("rewards_c:reward")
    assert message.startswith("reward function 'rewards_c:reward': importing rewards_c raised SyntaxError: ")
    assert "rewards_c.py, line 1" in message


def test_a_missing_function_lists_the_modules_functions(working_directory):
    write_module(working_directory, "rewards_d", REWARDS)
    assert refusal_of("rewards_d:lenght_reward") == (
        f"reward function 'rewards_d:lenght_reward': rewards_d ({working_directory / 'rewards_d.py'}) has no "
        "attribute 'lenght_reward'; its functions are Scorer, length_reward."
    )


def test_something_not_callable_is_refused(working_directory):
    write_module(working_directory, "rewards_e", REWARDS)
    assert refusal_of("rewards_e:LIMIT") == (
        "reward function 'rewards_e:LIMIT' is a int, not a function: name a function "
        "(prompts, completions, **kwargs) -> list[float | None]."
    )
