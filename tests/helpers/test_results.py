import types

import pytest

from helpers import results


def _history(epochs, val_accuracy=0.55):
    epochs = list(epochs)
    return types.SimpleNamespace(
        epoch=epochs, history={"val_accuracy": [val_accuracy] * len(epochs), "val_loss": [1.5] * len(epochs)}
    )


def test_record_appends_rows_with_every_column(tmp_path):
    path = tmp_path / "results.csv"
    model = types.SimpleNamespace(name="m")
    results.record(
        "a",
        model,
        _history(range(5)),
        {"accuracy": 0.61234, "loss": 1.2},
        notebook="01",
        train_images=750,
        seconds=12.34,
        backbone="mobilenet_v2_035",
        path=path,
    )
    row = results.record(
        "b",
        model,
        _history(range(5, 10)),
        {"accuracy": 0.7, "loss": 0.9},
        notebook="04",
        train_images=750,
        seconds=1,
        path=path,
    )
    assert row["epochs"] == 10 and row["backbone"] == "m"
    lines = path.read_text().splitlines()
    assert lines[0].split(",") == list(results.COLUMNS) and len(lines) == 3
    assert lines[1].startswith("a,01,mobilenet_v2_035,750,,5,0.55,1.5,,0.6123,1.2,,12.3,2.47,")
    import keras

    assert row["keras"] == keras.__version__ and "cores" in row["machine"] and row["tensorflow"]


def test_record_needs_validation_figures(tmp_path):
    with pytest.raises(KeyError, match="validation_data=val_data"):
        results.record(
            "a",
            None,
            types.SimpleNamespace(epoch=[0], history={"loss": [1.0]}),
            {"accuracy": 1, "loss": 0},
            notebook="01",
            train_images=1,
            seconds=1,
            path=tmp_path / "r.csv",
        )
    row = results.record(
        "a",
        None,
        types.SimpleNamespace(epoch=[0], history={}),
        {"accuracy": 1, "loss": 0},
        notebook="01",
        train_images=1,
        seconds=1,
        val_metrics={"accuracy": 0.25, "loss": 2},
        path=tmp_path / "r.csv",
    )
    assert (row["val_accuracy"], row["val_loss"]) == (0.25, 2)


def test_a_table_with_old_columns_is_kept_not_mixed(tmp_path, capsys):
    path = tmp_path / "results.csv"
    path.write_text("experiment,notebook,test_accuracy\nold,01,0.5\n")
    results.record("a", None, _history([0]), {"accuracy": 1, "loss": 0}, notebook="01", train_images=1, seconds=1,
                   path=path)
    kept = list(tmp_path.glob("results-old-columns-*.csv"))
    assert len(kept) == 1 and kept[0].read_text().startswith("experiment,notebook,test_accuracy\nold")
    assert path.read_text().splitlines()[0].split(",") == list(results.COLUMNS)
    assert "kept as" in capsys.readouterr().out


def test_record_needs_evaluate_metrics(tmp_path):
    with pytest.raises(KeyError, match="return_dict"):
        results.record(
            "a", None, _history([0]), {"acc": 1}, notebook="01", train_images=1, seconds=1, path=tmp_path / "r.csv"
        )


def test_table_and_plot_keep_the_latest_row_per_experiment(tmp_path):
    path = tmp_path / "results.csv"
    assert results.results_table(path) == "No results recorded yet."
    for acc in (0.5, 0.6):
        results.record(
            "a",
            None,
            _history([0]),
            {"accuracy": acc, "loss": 1},
            notebook="02",
            train_images=7,
            seconds=1,
            path=path,
            backbone="x",
        )
    results.record(
        "b",
        None,
        _history([0]),
        {"accuracy": 0.9, "loss": 1},
        notebook="01",
        train_images=7,
        seconds=1,
        path=path,
        backbone="x",
    )
    table = results.results_table(path).splitlines()
    assert table[0].startswith("experiment") and [line.split()[0] for line in table[1:]] == ["b", "a"]
    assert "60.0%" in table[2] and len(results.load_results(path, latest_only=False)) == 3
    fig = results.plot_results(path)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b\nx, 7 training images", "a\nx, 7 training images"]
    assert ax.get_xlabel().startswith("accuracy") and ax.get_title() and fig.get_suptitle()


def test_the_chart_groups_by_data_set_with_chance_and_both_intervals(tmp_path):
    path = tmp_path / "results.csv"
    ten, two = (types.SimpleNamespace(name="m", output_shape=(None, units)) for units in (10, 1))
    for name, model, images in (("food_a", ten, 1250), ("food_b", ten, 1250), ("bees", two, 153)):
        results.record(
            name, model, _history([0], 0.7), {"accuracy": 0.8, "loss": 1}, notebook="05" if model is two else "01",
            train_images=7, seconds=1, path=path, backbone="x", val_images=images // 4, test_images=images,
        )  # fmt: skip
    assert [row["classes"] for row in results.load_results(path)] == ["10", "10", "2"]
    fig = results.plot_results(path)
    panels = [ax for ax in fig.axes if ax.get_yticklabels()]
    assert [ax.get_title() for ax in panels] == ["10 classes, 1250 test images", "2 classes, 153 test images"]
    for ax, chance in zip(panels, (0.1, 0.5), strict=True):
        assert [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"] == [chance]
        shown = [t.get_text() for t in ax.texts]
        assert any(text.startswith("70.0% (") for text in shown) and any(t.startswith("80.0% (") for t in shown)
        errorbars = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
        assert len(errorbars) == 2, "validation and test, each with its 95% interval"
    assert results.output_classes(types.SimpleNamespace(name="no output")) == ""


def test_plot_without_results_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="run a notebook"):
        results.plot_results(tmp_path / "none.csv")


def test_summary_cli_writes_the_plot(tmp_path, capsys):
    results.record(
        "a",
        None,
        _history([0]),
        {"accuracy": 0.5, "loss": 1},
        notebook="02",
        train_images=7,
        seconds=1,
        path=tmp_path / "results.csv",
    )
    assert results.main(["summary", str(tmp_path)]) == 0
    assert (tmp_path / "results.png").exists() and "experiment" in capsys.readouterr().out


def test_accuracies_are_shown_with_their_interval_and_a_small_gap_is_a_tie(tmp_path):
    path = tmp_path / "results.csv"
    common = dict(notebook="01", train_images=7, seconds=1, path=path, backbone="x")
    results.record("wide", None, _history([0]), {"accuracy": 0.9, "loss": 1}, val_images=200, test_images=50, **common)
    results.record("bare", None, _history([0]), {"accuracy": 0.9, "loss": 1}, **common)
    table = results.results_table(path).splitlines()
    assert "90.0% (78.6-95.7)" in table[1], "50 test images: an interval about 17 points wide"
    assert "(" not in table[2], "a row without image counts shows the accuracy alone"
    low, high = results.accuracy_interval(0.5, 200)
    assert 0.43 < low < 0.44 and 0.56 < high < 0.57, "one image is 0.5 points; the interval about +-7"
    assert "a tie" in results.compare_accuracies({"a": (0.89, 200), "b": (0.835, 200)}), "5.5 points on 200 images"
    assert "beats" in results.compare_accuracies({"a": (0.89, 2000), "b": (0.835, 2000)})
    with pytest.raises(ValueError, match="at least one image"):
        results.accuracy_interval(0.5, 0)
