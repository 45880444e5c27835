"""Every command of the package (a module with a __main__ block) answers --help, built by tyro
from its config dataclass, and exits 0."""

import importlib
import os
import pkgutil
import subprocess
import sys

import pytest

import model


def command_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(model.__path__, "model."):
        if ".tests" in info.name or info.ispkg:
            continue
        path = os.path.join(os.path.dirname(model.__file__), *info.name.split(".")[1:]) + ".py"
        with open(path, encoding="utf-8") as f:
            if 'if __name__ == "__main__":' in f.read():
                names.append(info.name)
    return sorted(names)


COMMANDS = command_modules()


def test_the_commands_are_found():
    shipped = {"model.train", "model.sample", "model.packaging.export", "model.evaluation.eval_conversations"}
    assert shipped <= set(COMMANDS)
    assert len(COMMANDS) >= 18


@pytest.mark.parametrize("name", COMMANDS)
def test_command_answers_help(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        importlib.import_module(name).main(["--help"])
    assert exit_.value.code in (0, None)
    assert "usage:" in capsys.readouterr().out


def test_a_command_runs_as_a_module():
    out = subprocess.run([sys.executable, "-m", "model.train", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "--out-dir" in out.stdout and "--model.d-model" in out.stdout


def test_train_takes_the_spellings_scripts_have_always_used():
    from model.research.train import parse_args

    c = parse_args(
        [
            "--bf16=false",
            "--rollout_guided=1",
            "--lr=4e-4",
            '--model.image_input="vq"',
            "--model.d_model=32",
            "--diffusion.guidance_interval=[0.7,1]",
        ]
    )
    assert (c.bf16, c.rollout_guided, c.lr) == (False, True, 4e-4)
    stored = c.to_dict()
    assert stored["model"] == {"image_input": "vq", "d_model": 32}
    assert stored["diffusion"] == {"guidance_interval": (0.7, 1.0)}
    assert parse_args(["--no-bf16", "--model.d-model", "32"]).to_dict()["model"] == {"d_model": 32}
