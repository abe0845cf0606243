"""The kernels of the executed notebooks: jupyter_client's kernel manager, with kernels forked by the zygote.

papermill (through nbclient) starts each notebook's kernel with a jupyter_client kernel manager. The
manager of the site, :class:`ForkedKernelManager`, differs from jupyter_client's in one step only:
its provisioner's ``launch_kernel`` asks the build's fork server (:mod:`ixathaldex.site.zygote`) for
the kernel instead of starting ``python -m ipykernel_launcher`` — same command line, connection
file, folder and environment. Everything else (ports, connection file, the messages, the shutdown,
the kill) is jupyter_client's own. A forked kernel is not a child of this process, so the provisioner
watches and signals it by pid (:class:`ForkedProcess`). When no zygote is named, or it cannot give a
kernel, the kernel is started as usual (a warning says why).

nbclient names the class by its import path (``execute.KERNEL_MANAGER``) and gives it the zygote's
address in its config (``execute.kernel_options``): the build process itself never imports jupyter_client.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Unicode

from ixathaldex.log import logger
from ixathaldex.site.zygote import can_stand_for, fork_kernel, is_running

class ForkedProcess:
    """A kernel forked by the zygote, seen as a ``subprocess.Popen`` by jupyter_client's provisioner
    (``poll``, ``wait``, ``send_signal``, ``kill``, ``terminate``, ``pid``). Its exit status belongs
    to the zygote: a kernel that has exited polls as 0."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not is_running(self.pid):
            self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"kernel {self.pid} still running after {timeout} s")
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkedProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner whose kernel is forked by the zygote named by its manager."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        address = getattr(self.parent, "zygote_address", "")
        if not address or not can_stand_for(cmd):
            return await super().launch_kernel(cmd, **kwargs)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env = dict(kwargs.get("env") or os.environ)
        try:
            pid = await asyncio.get_running_loop().run_in_executor(None, fork_kernel, address, cmd, cwd, env)
        except (OSError, ValueError) as exc:
            logger.warning("kernel fork server unavailable (%s): starting a new kernel process", exc)
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedProcess(pid)
        self.pid = self.pgid = pid  # the kernel leads its own process group (see zygote.become_kernel)
        self.cwd = cwd
        return self.connection_info


class ForkedKernelManager(AsyncKernelManager):
    """nbclient's kernel manager, with the provisioner :class:`ForkedProvisioner`."""

    zygote_address = Unicode("", config=True, help="Unix socket of the build's kernel fork server")

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = ForkedProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)
