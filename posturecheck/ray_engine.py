"""The Ray engine: one task per drill on an organisation's existing Ray cluster (`--engine ray`).

The same jobs as the local process pool (`batch._run_job`), so outputs, error rows
and progress are the same; only where they run differs. Nothing is assumed about
shared storage: the driver (the computer running `posturecheck analyze`) sends each
input file's bytes with its task, the worker analyses a staged copy under the same
name and sends the review files back, and the driver writes them into `--report DIR`
exactly where the local engine would. Every node needs posturecheck installed (the
models ship inside the package), the same version as the driver.

Ray itself is optional (`pip install 'posturecheck[ray]'`); it is imported only here.
Usage statistics are switched off (`RAY_USAGE_STATS_ENABLED=0`) before connecting.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import socket
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .batch import DoneFn, EngineError, ReviewResult, _Job, _run_job, error_result

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0     # a cluster address that does not answer a TCP connect in this time is unreachable
PROBE_TIMEOUT_S = 300.0      # the first task (a worker starting and importing posturecheck) must answer by then
TASK_CPUS = 1                  # CPUs a drill's task reserves on a node
TASK_RETRIES = 1             # a task whose worker or node died is run once more, then becomes an error row
DRIVER_STOP_S = 30.0         # after the last result, the driver process has this long to disconnect
INSTALL_HINT = "pip install 'posturecheck[ray]'"


def _ray() -> Any:
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # before Ray is imported: no usage reports from this driver
    try:
        import ray
    except ImportError as exc:
        raise EngineError(f"--engine ray needs Ray on this computer: {INSTALL_HINT} ({exc})",
                          f"--engine ray 需要在本机安装 Ray：{INSTALL_HINT}（{exc}）") from exc
    return ray


def _unreachable(address: str, reason: str) -> EngineError:
    return EngineError(f"cannot reach the Ray cluster at {address} ({reason}); start it with `ray start --head` "
                       "on the head node, or give its address with --address HOST:PORT",
                       f"无法连接 Ray 集群 {address}（{reason}）；请在主节点上运行 `ray start --head`，"
                       "或用 --address 主机:端口 指定集群地址")


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Fail fast (one line) when HOST:PORT does not accept a connection; Ray itself would retry for minutes."""
    address = address.removeprefix("ray://")
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise EngineError(f"--address must be HOST:PORT (the head node's GCS port, 6379 by default), got {address!r}",
                          f"--address 应为 主机:端口（主节点的 GCS 端口，默认 6379），实际为 {address!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise _unreachable(address, exc.strerror or type(exc).__name__) from exc


def _probe() -> str:
    """Runs on a worker: proves posturecheck imports there and says which version."""
    return __version__


def _read_input(path: str) -> bytes | None:
    """The file's bytes, or None when it cannot be read here (the local engine then reports it)."""
    p = Path(path)
    try:
        return p.read_bytes() if p.is_file() else None
    except OSError:
        return None


def _run_staged(job: _Job, data: bytes) -> tuple[int, ReviewResult, dict[str, bytes]]:
    """Runs on a worker: stage the input under its own name, run the job, return the result and its files."""
    with tempfile.TemporaryDirectory(prefix="posturecheck-ray-") as tmp:
        src = Path(tmp) / "in" / Path(job.path).name
        src.parent.mkdir()
        src.write_bytes(data)
        out = Path(tmp) / "out"
        staged = replace(job, path=str(src), out_dir=None if job.out_dir is None else str(out), label=job.path)
        index, result = _run_job(staged)
        files: dict[str, bytes] = {}
        if result.out_dir is not None:
            files = {f.name: f.read_bytes() for f in sorted(out.iterdir()) if f.is_file()}
    return index, replace(result, out_dir=None if result.out_dir is None else job.out_dir), files


def lost_result(job: _Job, exc: BaseException) -> ReviewResult:
    """The error row of a drill whose Ray worker or node was lost (after TASK_RETRIES)."""
    name = Path(job.path).name
    why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    msg = (f"{name}：Ray 工作进程或节点中途丢失（{type(exc).__name__}），该文件未完成；其余文件继续" if job.review.lang == "zh"
           else f"{name}: the Ray worker or node was lost ({type(exc).__name__}: {why}); this file was not "
                "finished, the others went on")
    return ReviewResult(job.path, error=msg, error_code="worker_died")


def cluster_lost_result(job: _Job, address: str) -> ReviewResult:
    """The error row of a drill not finished because the whole cluster (its head) stopped answering."""
    name = Path(job.path).name
    msg = (f"{name}：Ray 集群 {address} 中途停止响应，该文件未完成；已完成的文件已保存，请在集群恢复后重新分析此文件"
           if job.review.lang == "zh" else
           f"{name}: the Ray cluster at {address} stopped answering mid-batch; this file was not finished (the "
           "finished ones are kept); analyse it again when the cluster is back")
    return ReviewResult(job.path, error=msg, error_code="cluster_lost")


def _write_files(out_dir: str, files: dict[str, bytes]) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / Path(name).name).write_bytes(data)  # a bare file name: nothing lands outside out_dir


class RayEngine:
    """An existing Ray cluster at `address` (default: $RAY_ADDRESS, else a cluster started on this computer).

    max_in_flight: tasks submitted at once (default: the cluster's CPUs), which also bounds
    how many input files are held in Ray's object store.
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, max_in_flight: int | None = None) -> None:
        self.address = address or os.environ.get("RAY_ADDRESS") or "auto"
        self.max_in_flight = max_in_flight

    def _connect(self, ray: Any) -> None:
        if self.address != "auto":
            check_reachable(self.address)
        try:
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.ERROR,
                     configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise _unreachable(self.address, str(exc).strip().splitlines()[0] if str(exc).strip() else
                               type(exc).__name__) from exc
        try:
            version = ray.get(ray.remote(_probe).options(num_cpus=0).remote(), timeout=PROBE_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError as exc:
            raise EngineError(f"no Ray worker answered within {PROBE_TIMEOUT_S:.0f} s at {self.address}; "
                              "check that the cluster's nodes are up",
                              f"Ray 集群 {self.address} 在 {PROBE_TIMEOUT_S:.0f} 秒内没有工作进程响应；请检查各节点是否在运行") from exc
        except ray.exceptions.RayError as exc:
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise EngineError(f"the Ray workers at {self.address} cannot run posturecheck ({first}); install "
                              f"posturecheck {__version__} on every node ({INSTALL_HINT})",
                              f"Ray 集群 {self.address} 的工作进程无法运行 posturecheck（{first}）；请在每个节点上安装 "
                              f"posturecheck {__version__}（{INSTALL_HINT}）") from exc
        if version != __version__:
            raise EngineError(f"the Ray workers at {self.address} run posturecheck {version}, this computer "
                              f"{__version__}; install the same version on every node",
                              f"Ray 集群 {self.address} 的工作进程使用 posturecheck {version}，本机为 {__version__}；"
                              "请在每个节点上安装相同版本")

    def run(self, jobs: Sequence[_Job], done: DoneFn) -> None:
        """Submit one task per job (at most max_in_flight at once) and report each as it finishes.

        The Ray driver runs in a child process: when the cluster's head dies mid-batch, Ray ends
        its driver process at once (no exception reaches Python). The child's death then costs
        only the drills not yet finished: each becomes an error row, the finished ones are kept.
        """
        if not jobs:
            return
        _ray()  # fail fast (install hint) before starting the driver process
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=False)
        log_path = _driver_log_path()
        proc = ctx.Process(target=_drive, name="posturecheck-ray-driver", daemon=True,
                           args=(self.address, self.max_in_flight, list(jobs), child,
                                 None if log_path is None else str(log_path)))
        proc.start()
        child.close()
        left = {j.index: j for j in jobs}
        try:
            while left:
                try:
                    kind, payload = parent.recv()
                except (EOFError, OSError):
                    break  # the driver process is gone
                if kind == "error":
                    message, message_zh = payload
                    raise EngineError(message, message_zh)
                index, result = payload
                left.pop(index, None)
                done(index, result)
        finally:
            proc.join(DRIVER_STOP_S)
            if proc.is_alive():
                proc.kill()
                proc.join()
            parent.close()
        if left:
            logger.info("the Ray driver stopped (exit code %s) with %d drills unfinished; Ray's messages: %s",
                           proc.exitcode, len(left), log_path or "the terminal")
            for job in sorted(left.values(), key=lambda j: j.index):
                done(job.index, cluster_lost_result(job, self.address))

    @staticmethod
    def _collect(ray: Any, ref: Any, job: _Job) -> ReviewResult:
        try:
            _, result, files = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # the task itself raised (e.g. staging: disk full)
            logger.debug("ray task for %s failed", job.path, exc_info=True)
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            return error_result(job.path, cause, job.review.lang)
        except ray.exceptions.RayError as exc:  # worker or node died, out of memory, object lost
            logger.warning("ray task for %s lost: %s", job.path, exc)
            return lost_result(job, exc)
        if result.out_dir is not None and files:
            _write_files(result.out_dir, files)
        return result


def _driver_log_path() -> Path | None:
    """Where the driver process's own output goes (Ray prints its raylet logs there, not on the
    terminal); None when the folder cannot be made (Ray's messages then reach the terminal)."""
    from .history import default_home

    folder = default_home() / "logs"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder / "ray-driver.log"


def _drive(address: str, max_in_flight: int | None, jobs: list[_Job], conn: Any, log_path: str | None) -> None:
    """The driver process: connect, submit, send ("result", (index, result)) per drill or ("error", texts)."""
    if log_path is not None:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    ray = _ray()
    pending: dict[Any, _Job] = {}
    engine = RayEngine(address, max_in_flight=max_in_flight)
    try:
        try:
            engine._connect(ray)
        except EngineError as exc:
            conn.send(("error", (str(exc), exc.message_zh)))
            return
        limit = max_in_flight or max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(_run_staged).options(num_cpus=TASK_CPUS, max_retries=TASK_RETRIES)
        # A task holds TASK_CPUS of a node: its review's OpenCV/x264 threads stay within them.
        queue = [replace(j, review=replace(j.review, threads=TASK_CPUS))
                 if j.review is not None and j.review.threads is None else j for j in jobs]
        while queue or pending:
            while queue and len(pending) < limit:
                job = queue.pop(0)
                data = _read_input(job.path)
                if data is None:  # missing, a folder, no permission: the same error row as the local engine
                    conn.send(("result", _run_job(job)))
                    continue
                pending[task.remote(job, data)] = job
                del data
            if not pending:
                continue
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                job = pending.pop(ref)
                conn.send(("result", (job.index, RayEngine._collect(ray, ref, job))))
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        ray.shutdown()
        conn.close()
