"""_core.simd: the width of one vector register, read from what Numba compiles for, and its fallbacks."""

from __future__ import annotations


class TestRegisterWidth:
    """simd reads the target's CPU features from a private attribute of Numba's code generator;
    without it, the width comes from Numba's own public inputs, and failing those, 16 bytes."""

    def test_the_private_attribute_and_the_public_route_agree_here(self):
        from numba.core.registry import cpu_target

        from kernelcli._core import simd

        private = cpu_target.target_context.codegen()._tm_features
        assert simd._target_features() == private
        assert simd.REGISTER_BYTES == simd.register_bytes(private)

    def test_a_codegen_without_the_attribute_falls_back_to_the_same_features(self, monkeypatch):
        from numba.core.registry import cpu_target

        from kernelcli._core import simd

        private = cpu_target.target_context.codegen()._tm_features
        monkeypatch.setattr(cpu_target.target_context, "codegen", lambda: object())  # no _tm_features
        assert simd._target_features() == private  # Numba's rule: NUMBA_CPU_FEATURES, else the host's

        def broken():
            raise RuntimeError("laid out otherwise")

        monkeypatch.setattr(cpu_target.target_context, "codegen", broken)
        assert simd._target_features() == private

    def test_when_nothing_answers_the_smallest_registers(self, monkeypatch):
        from numba.core import codegen, config
        from numba.core.registry import cpu_target

        from kernelcli._core import simd

        def broken(*args):
            raise RuntimeError("unavailable")

        monkeypatch.setattr(cpu_target.target_context, "codegen", lambda: object())
        monkeypatch.setattr(config, "CPU_FEATURES", None)
        monkeypatch.setattr(codegen, "get_host_cpu_features", broken)
        assert simd._target_features() == "" and simd.register_bytes("") == 16

    def test_register_bytes_of_each_target(self):
        from kernelcli._core import simd

        assert simd.register_bytes("+sse2,+avx,+avx2,+avx512f") == 64
        assert simd.register_bytes("+sse2,+avx,+avx2,-avx512f") == 32  # NUMBA_CPU_FEATURES=...,-avx512f
        assert simd.register_bytes("+sse2,-avx") == simd.register_bytes("None") == 16
