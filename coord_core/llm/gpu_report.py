"""What the narrative run used of the GPU: Ollama's loaded models (``/api/ps``) and, where the
NVIDIA management library is present on this worker, its devices.

Absent NVML is a fact to record (``available: false`` with the reason), never an error.
"""

from __future__ import annotations

import logging
from typing import Any

from coord_core.llm.transport import OLLAMA_ERRORS

log = logging.getLogger(__name__)


def loaded_models(client: Any) -> dict[str, Any]:
    """Ollama's running models: size, size in VRAM, digest and when each unloads."""
    try:
        running = client.ps()
    except OLLAMA_ERRORS as exc:  # best effort: the reason is recorded instead
        log.warning("Ollama /api/ps failed: %s", exc)
        return {"available": False, "reason": f"{type(exc).__name__}: {exc}"[:500]}
    models = []
    for m in running.models:
        size, vram = int(m.size or 0), int(m.size_vram or 0)
        models.append(
            {
                "model": m.model or m.name,
                "digest": m.digest,
                "size": size,
                "size_vram": vram,
                "vram_fraction": round(vram / size, 4) if size else None,
                "context_length": m.context_length,
                "expires_at": m.expires_at.isoformat() if m.expires_at else None,
            }
        )
    return {"available": True, "models": models}


def nvml_devices() -> dict[str, Any]:
    """Devices seen through NVML (``nvidia-ml-py``, the ``gpu`` extra) on this machine."""
    try:
        import pynvml
    except ImportError:
        return {"available": False, "reason": "nvidia-ml-py is not installed"}
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return {"available": False, "reason": f"NVML: {exc}"}
    try:
        devices = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            utilization = pynvml.nvmlDeviceGetUtilizationRates(handle)
            name = pynvml.nvmlDeviceGetName(handle)
            devices.append(
                {
                    "index": index,
                    "name": name.decode() if isinstance(name, bytes) else str(name),
                    "memory_total": int(memory.total),
                    "memory_used": int(memory.used),
                    "utilization_gpu_percent": int(utilization.gpu),
                }
            )
        driver = pynvml.nvmlSystemGetDriverVersion()
        return {
            "available": True,
            "driver": driver.decode() if isinstance(driver, bytes) else str(driver),
            "devices": devices,
        }
    except pynvml.NVMLError as exc:
        return {"available": False, "reason": f"NVML: {exc}"}
    finally:
        pynvml.nvmlShutdown()
