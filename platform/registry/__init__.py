"""The funeral registry service (殡葬管理服务信息系统) that each province runs."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fsp-kit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
