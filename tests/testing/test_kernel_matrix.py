"""The kernel-setting matrix runner (python -m mm4m.testing.kernel_matrix)."""

from __future__ import annotations

from mm4m.testing import kernel_matrix
from mm4m.testing.kernel_matrix import KernelSetting, kernel_settings


def test_every_value_of_every_variable_gets_a_run_and_avx512_only_where_the_cpu_has_it():
    labels = [s.label for s in kernel_settings(avx512=False)]
    assert labels[0] == "machine default"
    for expected in ("ATEN_CPU_CAPABILITY=default", "ATEN_CPU_CAPABILITY=avx2", "MKL_ENABLE_INSTRUCTIONS=SSE4_2",
                     "MKL_ENABLE_INSTRUCTIONS=AVX2", "ONEDNN_MAX_CPU_ISA=SSE41", "ONEDNN_MAX_CPU_ISA=AVX2",
                     "1 thread", "2 threads"):
        assert expected in labels
    assert "ATEN_CPU_CAPABILITY=avx512" not in labels
    assert "ATEN_CPU_CAPABILITY=avx512" in [s.label for s in kernel_settings(avx512=True)]


def test_a_run_that_fails_under_one_setting_fails_the_matrix_and_is_named(tmp_path, monkeypatch, capsys):
    test_file = tmp_path / "test_env.py"
    test_file.write_text("import os\n\ndef test_kernels():\n    assert os.environ.get('ATEN_CPU_CAPABILITY') != 'default'\n")
    monkeypatch.setattr(kernel_matrix, "kernel_settings", lambda: [
        KernelSetting("machine default", {}), KernelSetting("scalar", {"ATEN_CPU_CAPABILITY": "default"})])
    assert kernel_matrix.main(["--jobs", "2", "--", str(test_file)]) == 1
    out = capsys.readouterr().out
    assert "1 passed" in out and "scalar: pytest exited with 1" in out
