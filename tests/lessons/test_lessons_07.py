"""Notebook 07 (review questions): its structure, and that every citation names a section that exists.

Each answer cites where the course shows it, as ``notebook NN, section "Title"`` (or ``sections "A" and "B"``,
``part "Subsection"``). Headings move while the course is revised; these checks fail as soon as a cited
title no longer matches a ``##`` / ``###`` heading of that notebook (the "N. " number prefix is ignored).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.config import find_root

NOTEBOOKS = find_root() / "notebooks"
REVIEW = NOTEBOOKS / "07_review_questions.ipynb"
QUESTION = re.compile(r"^### Q(\d+)\. (.+)$", re.MULTILINE)
CITATION = re.compile(r"[Nn]otebook (\d\d), sections? (.*?)(?=;|\.\s|\.$|</details>|[Nn]otebook \d\d|$)", re.DOTALL)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _questions() -> list[tuple[int, str, str, bool]]:
    """(number, question, markdown of its cell, whether a code cell follows it) for every question."""
    cells = _cells(REVIEW)
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for match in QUESTION.finditer(_source(cell)):
            follows = index + 1 < len(cells) and cells[index + 1]["cell_type"] == "code"
            found.append((int(match.group(1)), match.group(2), _source(cell), follows))
    return found


def _headings(number: str) -> set[str]:
    """The ``##`` and ``###`` headings of lesson notebook ``number``, without their "N. " prefix."""
    (path,) = NOTEBOOKS.glob(f"{number}_*.ipynb")
    titles = set()
    for cell in _cells(path):
        if cell["cell_type"] == "markdown":
            for match in re.finditer(r"^#{2,3} (?:\d+\. )?(.+?)\s*$", _source(cell), re.MULTILINE):
                titles.add(match.group(1))
    return titles


def _citations(markdown: str) -> list[tuple[str, str]]:
    """(notebook number, cited title) for every ``notebook NN, section(s) "..."`` in ``markdown``."""
    text = re.sub(r"\s+", " ", markdown)
    # code spans holding quotes (`monitor="val_loss"`) are no titles; spans inside titles stay
    text = re.sub(r"`[^`]*`", lambda span: "" if '"' in span.group() else span.group(), text)
    cited = []
    for match in CITATION.finditer(text):
        cited += [(match.group(1), title) for title in re.findall(r'"([^"]+)"', match.group(2))]
    return cited


def test_at_least_15_questions_numbered_in_order():
    numbers = [number for number, *_ in _questions()]
    assert len(numbers) >= 15
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_answer_is_folded_and_renders_as_markdown():
    for number, _, markdown, _ in _questions():
        block = markdown[markdown.index(f"### Q{number}.") :]
        assert "<details><summary>Answer</summary>\n\n" in block, f"Q{number}: blank line after <summary>"
        assert block.count("<details>") == block.count("</details>") == 1, f"Q{number}: one folded answer"


def test_every_answer_cites_a_notebook_section_and_several_have_a_check():
    questions = _questions()
    for number, _, markdown, _ in questions:
        assert _citations(markdown), f"Q{number} cites no notebook section"
    assert sum(follows for *_, follows in questions) >= 6, "at least 6 questions come with a code cell"


@pytest.mark.parametrize("number", sorted({n for _, _, md, _ in _questions() for n, _ in _citations(md)}))
def test_every_cited_section_exists(number):
    headings = _headings(number)
    cited = {title for _, _, md, _ in _questions() for n, title in _citations(md) if n == number}
    missing = sorted(title for title in cited if title not in headings)
    assert not missing, f"notebook {number} has no section {missing}; its headings: {sorted(headings)}"


def test_the_citation_parser_reads_every_form():
    markdown = (
        'notebook 02, section "Sequential or Functional?" (parts "Branches that merge", "One layer"); '
        'notebook 04, sections "A: b" (head first), "C, d" and "E". '
        'Notebook 03, section "Model 2" (`monitor="val_loss"`).'
    )
    assert _citations(markdown) == [
        ("02", "Sequential or Functional?"),
        ("02", "Branches that merge"),
        ("02", "One layer"),
        ("04", "A: b"),
        ("04", "C, d"),
        ("04", "E"),
        ("03", "Model 2"),
    ]


# --------------------------------------------------------------------------- the claims of Q11, Q14, Q18 and Q20


def _answer(number: int) -> str:
    return next(markdown for n, _, markdown, _ in _questions() if n == number)


def _toy(num_classes: int = 2):
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, name="hidden"), keras.layers.Dense(num_classes, name="head")]
    )


def _compiled(model):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def _toy_data():
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 4)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")


def _arrays(path: Path) -> list[str]:
    import h5py

    found: list[str] = []
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda name, item: found.append(name) if isinstance(item, h5py.Dataset) else None)
    return found


def test_q11_and_q12_say_which_versions_freeze_batchnorm():
    for number in (11, 12):
        assert "every version" not in _answer(number) and "every Keras version" not in _answer(number)
        assert "in Keras 3 and in tf.keras since TF 2.0" in _answer(number)


def test_q18_a_weights_file_holds_the_optimizer_once_compiled_and_trained(tmp_path):
    import numpy as np

    x, y = _toy_data()
    bare = _toy()
    bare.save_weights(tmp_path / "bare.weights.h5")
    assert not [name for name in _arrays(tmp_path / "bare.weights.h5") if name.startswith("optimizer/")]

    trained = _compiled(_toy())
    trained.fit(x, y, epochs=1, verbose=0)
    trained.save_weights(tmp_path / "trained.weights.h5")
    stored = _arrays(tmp_path / "trained.weights.h5")
    optimizer = [name for name in stored if name.startswith("optimizer/vars/")]
    # the step count, the learning rate, and Adam's two averages for each of the 4 weights
    assert len(optimizer) == 2 + 2 * len(trained.weights)
    # the layers are filed by type and position, not by the names "hidden" and "head"
    assert {name.split("/vars/")[0] for name in stored if name.startswith("layers/")} == {
        "layers/dense",
        "layers/dense_1",
    }
    rebuilt = _toy()  # never compiled: the optimizer's variables are ignored
    rebuilt.load_weights(tmp_path / "trained.weights.h5")
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), trained.predict(x, verbose=0), rtol=1e-6)
    assert "optimizer/vars/" in _answer(18) and "weights only" not in _answer(18)


def test_q14_only_the_callback_reads_the_epoch_and_a_recompile_resets_the_step_count():
    import keras

    x, y = _toy_data()
    model = _compiled(_toy())
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert int(model.optimizer.iterations) == 4
    seen = []
    scheduler = keras.callbacks.LearningRateScheduler(lambda epoch, rate: seen.append(epoch) or rate)
    history = model.fit(x, y, initial_epoch=2, epochs=4, batch_size=8, verbose=0, callbacks=[scheduler])
    assert seen == history.epoch == [2, 3]
    assert int(model.optimizer.iterations) == 8  # initial_epoch did not touch the step count

    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=1, decay_rate=0.5)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert int(model.optimizer.iterations) == 2  # a recompile starts the schedule from its first step again


@pytest.mark.parametrize("stop, trained", [(3, 2), (4, 3)])
def test_q14_history_epoch_minus_one_reuses_a_number_and_epochs_decides_how_many_run(stop, trained):
    x, y = _toy_data()
    model = _compiled(_toy())
    first = model.fit(x, y, epochs=2, verbose=0)
    again = model.fit(x, y, initial_epoch=first.epoch[-1], epochs=stop, verbose=0)
    assert again.epoch[0] == first.epoch[-1] and len(again.epoch) == trained
    assert "depends on `epochs=`" in _answer(14)


def test_q20_counts_the_models_notebook_06_shows():
    import ast

    from helpers.backbones import PUBLISHED

    (path,) = NOTEBOOKS.glob("06_*.ipynb")
    candidates = None
    for cell in _cells(path):
        if cell["cell_type"] == "code" and "candidates = [" in _source(cell):
            for node in ast.walk(ast.parse(_source(cell))):
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "candidates":
                    candidates = ast.literal_eval(node.value)
    assert candidates is not None, "notebook 06 no longer lists its candidates"
    words = {8: "eight", 9: "nine", 10: "ten", 7: "seven", 6: "six"}
    answer = re.sub(r"\s+", " ", _answer(20))
    assert f"the largest file of the {words[len(candidates)]} models notebook 06 shows" in answer
    assert max(candidates, key=lambda name: PUBLISHED[name]["size_mb"]) == "VGG16"
    assert "largest file of all" not in answer


# --------------------------------------------------------------------------- the structure the checks print


def test_every_question_heading_opens_its_cell_with_its_anchor_on_the_next_line():
    cells = [_source(cell) for cell in _cells(REVIEW) if cell["cell_type"] == "markdown"]
    numbers = []
    for markdown in cells:
        lines = markdown.splitlines()
        match = re.match(r"### Q(\d+)\. ", lines[0]) if lines else None
        assert match or not QUESTION.search(markdown), f"a question heading is not first in: {lines[0]!r}"
        if match:
            numbers.append(int(match.group(1)))
            assert lines[1] == f'<a id="q{match.group(1)}"></a>', f"Q{match.group(1)}: anchor on the next line"
    assert numbers == list(range(1, 21))


def test_q4_unfreezing_moves_parameters_to_trainable_and_adds_none():
    from helpers.models import build_feature_extractor, count_params, trainable_layer_names, unfreeze_last
    from helpers.training import compile_classifier

    demo = build_feature_extractor("mobilenet_v2_035", (64, 64, 3), num_classes=3, weights=None, name="demo")
    compile_classifier(demo)
    extraction = count_params(demo)
    assert trainable_layer_names(demo) == ["classifier"]
    unfreeze_last(demo.get_layer("base"), 10)
    compile_classifier(demo, learning_rate=1e-4)
    fine_tuning = count_params(demo)
    assert trainable_layer_names(demo) == ["base", "classifier"]
    assert fine_tuning["trainable"] > extraction["trainable"]
    assert sum(fine_tuning.values()) == sum(extraction.values())


def test_q5_a_shared_layer_is_listed_once_with_one_set_of_weights():
    import keras

    front, top, menu = keras.Input((8,)), keras.Input((8,)), keras.Input((3,))
    encoder = keras.layers.Dense(4, name="shared_encoder")
    merged = keras.layers.Concatenate()([encoder(front), encoder(top), menu])
    hidden = keras.layers.Dense(6)(merged)
    model = keras.Model([front, top, menu], [keras.layers.Dense(4)(hidden), keras.layers.Dense(1)(hidden)])
    assert len(model.inputs) == 3 and len(model.outputs) == 2
    assert [layer.name for layer in model.layers].count("shared_encoder") == 1
    assert len(model.weights) == 2 * 4  # encoder, hidden and the two outputs: a kernel and a bias each


def test_q6_the_head_reads_one_pooled_vector_per_image_one_kernel_row_per_feature():
    import keras
    import numpy as np

    from helpers.models import build_feature_extractor

    demo = build_feature_extractor("mobilenet_v2_035", (64, 64, 3), num_classes=3, weights=None, name="demo")
    bottleneck = keras.Model(demo.input, demo.get_layer("pooling").output)
    features = bottleneck.predict(np.zeros((2, 64, 64, 3), "float32"), verbose=0)
    assert features.shape == (2, demo.get_layer("classifier").kernel.shape[0])


@pytest.mark.parametrize("trainable", [False, True])
def test_q11_only_a_trainable_batchnorm_uses_the_batch_and_moves_its_mean(trainable):
    import keras
    import numpy as np

    batch = np.random.default_rng(0).normal(loc=5.0, scale=3.0, size=(8, 4)).astype("float32")
    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))
    layer.trainable = trainable
    inference = np.asarray(layer(batch, training=False))
    training = np.asarray(layer(batch, training=True))
    moved = not np.allclose(np.asarray(layer.moving_mean), 0.0)
    assert np.allclose(inference, training, atol=1e-5) is not trainable
    assert moved is trainable


def test_q15_the_winner_of_a_choice_comes_back_to_the_true_accuracy_on_fresh_images():
    import numpy as np

    simulation = np.random.default_rng(0)
    winners = simulation.binomial(50, 0.7, size=(1000, 20)).max(axis=1) / 50
    fresh = simulation.binomial(1000, 0.7, size=1000) / 1000
    assert winners.mean() > 0.72
    assert abs(fresh.mean() - 0.7) < 0.01


def test_q16_compares_the_models_on_validation_figures_never_on_test_differences():
    code = [_source(cell) for cell in _cells(REVIEW) if cell["cell_type"] == "code"]
    calls = [line for source in code for line in source.splitlines() if "compare_accuracies(" in line]
    assert calls and all("step" in line or "on_validation" in line for line in calls)
    assert any("step = {" in source and "on_validation(" in source for source in code)
    differences = re.compile(r"test_accuracy[^\n]*\)\s*-|-\s*float\([^\n]*test_accuracy")
    assert not any(differences.search(source) for source in code), "no test-accuracy gains between models"
